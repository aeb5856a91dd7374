/**
 * Builds the listener's targets from the configuration: the in-process Lambda function (the echo function, or a
 * module of the developer's) and HTTP upstreams.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AccessVerifier } from "../access/index.ts";
import type { EdgelockConfig, TargetConfig } from "../config/index.ts";
import { createEchoHandler } from "../function/echo.ts";
import { accessCheck } from "../function/index.ts";
import type { Logger } from "../shared/logger.ts";
import { createLambdaTarget, type LambdaHandler, type Target } from "../targets/index.ts";
import { EdgelockError } from "../shared/errors.ts";

/** A target the stack runs, with optional start and stop hooks (health checks of HTTP targets). */
export interface StackTarget {
  target: Target;
  start?: () => void | Promise<void>;
  stop?: () => void | Promise<void>;
}

export interface TargetContext {
  config: EdgelockConfig;
  /** Folder relative handler paths are resolved against. */
  baseDir: string;
  logger: Logger;
  /** Builds the Access verifier the echo function uses; called only for targets that require a token. */
  accessVerifier: () => AccessVerifier;
  /** Creates an HTTP upstream target; injected so the stack does not load undici for Lambda-only setups. */
  createHttpTarget?: (name: string, config: Extract<TargetConfig, { type: "http" }>) => StackTarget;
}

function targetGroupArn(config: EdgelockConfig, name: string): string {
  return `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/${config.name}-${name}/0123456789abcdef`;
}

async function loadHandler(name: string, handler: string, context: TargetContext, requireAccessToken: boolean): Promise<LambdaHandler> {
  if (handler === "echo") {
    // The verifier is built on the first request, because the edge's port (in the JWKS URL) is known only then.
    return createEchoHandler(requireAccessToken ? { verifyAccess: (headers) => accessCheck(context.accessVerifier())(headers) } : {}) as LambdaHandler;
  }
  const url = pathToFileURL(resolve(context.baseDir, handler)).href;
  const module = (await import(url)) as { handler?: unknown };
  if (typeof module.handler !== "function") {
    throw new EdgelockError("ERR_TARGET_HANDLER", `targets.${name}.handler "${handler}" does not export a function named "handler"`);
  }
  return module.handler as LambdaHandler;
}

/** Creates every configured target. */
export async function buildTargets(context: TargetContext): Promise<Map<string, StackTarget>> {
  const targets = new Map<string, StackTarget>();
  for (const [name, target] of Object.entries(context.config.targets)) {
    if (target.type === "lambda") {
      const handler = await loadHandler(name, target.handler, context, target.requireAccessToken);
      targets.set(name, {
        target: createLambdaTarget({
          handler,
          targetGroupArn: targetGroupArn(context.config, name),
          multiValueHeaders: target.multiValueHeaders,
          timeoutSeconds: target.timeoutSeconds,
          local: context.config.local.alb,
          logger: context.logger.child({ target: name }),
        }),
      });
      continue;
    }
    if (context.createHttpTarget === undefined) {
      throw new EdgelockError("ERR_TARGET_HTTP", `targets.${name} is an HTTP target, which this build cannot run`);
    }
    targets.set(name, context.createHttpTarget(name, target));
  }
  return targets;
}
