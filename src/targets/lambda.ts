/**
 * A Lambda function as an ALB target, invoked in-process. The ALB invokes synchronously with the event of
 * lambda-event.ts and turns failures into its own responses (access-log error reasons): 413
 * LambdaRequestTooLarge, 502 LambdaBadRequest, LambdaUnhandled (a thrown error or a timeout),
 * LambdaInvalidResponse and LambdaResponseTooLarge. Throttling, permissions and VPC errors are not emulated.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { LocalAlbConfig } from "../config/schema/local.ts";
import type { AlbEvent, AlbResult, LambdaContext } from "../function/alb-event.ts";
import type { Target, TargetRequest, TargetResponse } from "./index.ts";
import { buildAlbEvent, MAX_LAMBDA_REQUEST_BYTES } from "./lambda-event.ts";
import { readLambdaResponse } from "./lambda-response.ts";

/** A function handler: async, or Node-callback style with three parameters. */
export type LambdaHandler = (event: AlbEvent, context: LambdaContext, callback?: (error: unknown, result?: AlbResult) => void) => unknown;

export interface LambdaTargetOptions {
  handler: LambdaHandler;
  /** ARN placed in requestContext.elb.targetGroupArn and in the access log. */
  targetGroupArn: string;
  /** Target-group attribute lambda.multi_value_headers.enabled. */
  multiValueHeaders: boolean;
  /** Seconds before the invocation counts as timed out (502 LambdaUnhandled). */
  timeoutSeconds: number;
  /** Local switches; `strictLambdaHeadersKey` is read here. */
  local: Pick<LocalAlbConfig, "strictLambdaHeadersKey">;
  logger: Logger;
  /** Function name in the context object. Default: the target group's name from the ARN. */
  functionName?: string;
}

class InvocationTimeout extends Error {}

const ERROR_PAGE = (status: number, phrase: string) =>
  Buffer.from(`<html>\r\n<head><title>${status} ${phrase}</title></head>\r\n<body>\r\n<center><h1>${status} ${phrase}</h1></center>\r\n</body>\r\n</html>\r\n`);

/** Returns the response the ALB sends in place of a failed Lambda invocation. */
export function lambdaErrorResponse(status: 413 | 502, errorReason: string): TargetResponse {
  const phrase = status === 413 ? "Request Entity Too Large" : "Bad Gateway";
  return {
    status,
    headers: [
      ["Server", "awselb/2.0"],
      ["Content-Type", "text/html"],
    ],
    body: ERROR_PAGE(status, phrase),
    errorReason,
  };
}

function invoke(handler: LambdaHandler, event: AlbEvent, context: LambdaContext): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (error: unknown, result?: AlbResult) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, context, callback);
      if (handler.length < 3 || returned !== undefined) Promise.resolve(returned).then(resolve, reject);
    } catch (error) {
      reject(error);
    }
  });
}

/** Creates the target. The handler runs in this process; a timed-out invocation keeps running, as its result is ignored. */
export function createLambdaTarget(options: LambdaTargetOptions): Target {
  const functionName = options.functionName ?? options.targetGroupArn.split(":targetgroup/")[1]?.split("/")[0] ?? "function";
  const timeoutMs = options.timeoutSeconds * 1000;
  const log = options.logger.child({ target: functionName });

  async function handle(request: TargetRequest): Promise<TargetResponse> {
    if (request.body.length > MAX_LAMBDA_REQUEST_BYTES) {
      log.info({ errorReason: "LambdaRequestTooLarge", bytes: request.body.length }, "request body over 1 MB was not passed to the function");
      return lambdaErrorResponse(413, "LambdaRequestTooLarge");
    }

    let event: AlbEvent;
    try {
      event = buildAlbEvent(request, options.targetGroupArn, options.multiValueHeaders);
    } catch {
      log.warn({ errorReason: "LambdaBadRequest" }, "text request body is not valid UTF-8");
      return lambdaErrorResponse(502, "LambdaBadRequest");
    }

    const deadline = Date.now() + timeoutMs;
    const context: LambdaContext = {
      functionName,
      awsRequestId: randomUUID(),
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new InvocationTimeout()), timeoutMs);
    });
    let result: unknown;
    try {
      result = await Promise.race([invoke(options.handler, event, context), timeout]);
    } catch (error) {
      const timedOut = error instanceof InvocationTimeout;
      log.warn(
        { errorReason: "LambdaUnhandled", requestId: context.awsRequestId, error: timedOut ? undefined : (error as Error)?.message ?? String(error) },
        timedOut ? `function timed out after ${options.timeoutSeconds} s` : "function threw an error",
      );
      return lambdaErrorResponse(502, "LambdaUnhandled");
    } finally {
      clearTimeout(timer);
    }

    const read = readLambdaResponse(result, options.multiValueHeaders, options.local.strictLambdaHeadersKey);
    if (!read.ok) {
      log.warn({ errorReason: read.errorReason, requestId: context.awsRequestId }, read.detail);
      return lambdaErrorResponse(502, read.errorReason);
    }
    for (const warning of read.warnings) log.warn({ requestId: context.awsRequestId }, warning);
    return { status: read.status, statusText: read.statusText, headers: read.headers, body: read.body };
  }

  return { kind: "lambda", targetGroupArn: options.targetGroupArn, handle };
}
