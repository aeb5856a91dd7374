/**
 * edgelock's request path laid out for the nginx anchor benchmark's contract: an edge with a Bypass policy in
 * front of a verify-mode listener, both serving the anchor's certificates, with /static and /echo routes.
 *
 *   client ──HTTPS──▶ edge (Access gate, Bypass) ──mTLS origin pull──▶ listener (verify) ──▶ /static: fixed response
 *                                                                                        └─▶ /echo: HTTP target
 *
 * The anchor's edge has no login, so the application's only policy is Bypass for everyone: every request still
 * runs the gate (application match, policy evaluation, header filtering) and is forwarded without a token.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compileApplications, openServiceTokenStore, openSigningKeys } from "../src/access/index.ts";
import { createListener, createTrustStore, type Listener } from "../src/alb/index.ts";
import { parseConfig, type EdgelockConfig, type EdgelockConfigInput } from "../src/config/index.ts";
import { createEdge, type Edge } from "../src/edge/index.ts";
import { EdgelockError } from "../src/shared/errors.ts";
import type { Logger } from "../src/shared/logger.ts";
import { createLambdaTarget, type LambdaHandler, type Target } from "../src/targets/index.ts";
import { createHttpTarget } from "../src/targets/http.ts";
import { createEchoHandler } from "../src/function/echo.ts";
import type { AlbEvent, AlbResult } from "../src/function/alb-event.ts";

/** Files of an anchor certificate folder (gen-certs.sh layout). */
export const ANCHOR_FILES = ["ca.crt", "edge.crt", "edge.key", "origin.crt", "origin.key", "client.crt", "client.key"] as const;

/** The name the listener's certificate is checked against: the anchor's certificates carry DNS:localhost and IP:127.0.0.1. */
export const ORIGIN_SERVER_NAME = "localhost";

/** Source of the /static response: a fixed-response action of the listener, or a Lambda function that builds the JSON. */
export type StaticMode = "fixed" | "lambda";

/** Part of the chain one process runs. */
export type ChainRole = "edge" | "listener" | "both";

export interface AnchorCertificates {
  caPem: string;
  edge: { certPem: string; keyPem: string };
  origin: { certPem: string; keyPem: string };
  client: { certPem: string; keyPem: string };
}

export interface BenchChainOptions {
  role: ChainRole;
  certificates: AnchorCertificates;
  /** Edge port; 0 picks a free one. Ignored for role "listener". */
  edgePort: number;
  /** Listener port; 0 picks a free one. For role "edge", the port of a listener already running. */
  listenerPort: number;
  /** Base URL of the JSON echo backend behind /echo. Default: the echo Lambda function serves /echo. */
  backendUrl?: string;
  /** Default "fixed". */
  staticMode?: StaticMode;
  /** Folder for the signing keys, service tokens and the listener's connection.log and access.log. */
  stateDir: string;
  /** Writes connection.log and access.log under `<stateDir>/logs`. Default true. */
  listenerLogs?: boolean;
  logger: Logger;
}

export interface BenchChain {
  /** Bound ports; undefined for the part this process does not run. */
  edgePort: number | undefined;
  listenerPort: number | undefined;
  /** Folder of the listener's connection.log and access.log, when written. */
  logDir: string | undefined;
  close(): Promise<void>;
}

/** Reads the anchor's certificate folder; throws ERR_BENCH_CERTS naming the missing file. */
export function readAnchorCertificates(certDir: string): AnchorCertificates {
  const read = (name: (typeof ANCHOR_FILES)[number]): string => {
    try {
      return readFileSync(join(certDir, name), "utf8");
    } catch (error) {
      throw new EdgelockError("ERR_BENCH_CERTS", `anchor certificate file "${join(certDir, name)}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); make the folder with gen-certs.sh`, { cause: error });
    }
  };
  return {
    caPem: read("ca.crt"),
    edge: { certPem: read("edge.crt"), keyPem: read("edge.key") },
    origin: { certPem: read("origin.crt"), keyPem: read("origin.key") },
    client: { certPem: read("client.crt"), keyPem: read("client.key") },
  };
}

/** The /static body of the fixed-response action: the fields of the anchor's JSON that do not depend on the client. */
export const STATIC_BODY = JSON.stringify({ ok: true, from: "origin", mtls: { verify: "SUCCESS" } });

/** Returns the /static JSON like the anchor's origin, with the client certificate the listener verified (Lambda handler). */
async function staticHandler(event: AlbEvent): Promise<AlbResult> {
  const headers = event.headers ?? {};
  const body = JSON.stringify({
    ok: true,
    from: "origin",
    mtls: {
      verify: "SUCCESS",
      serial: headers["x-amzn-mtls-clientcert-serial-number"] ?? "",
      subject: headers["x-amzn-mtls-clientcert-subject"] ?? "",
      issuer: headers["x-amzn-mtls-clientcert-issuer"] ?? "",
    },
  });
  return { statusCode: 200, statusDescription: "200 OK", headers: { "content-type": "application/json" }, body, isBase64Encoded: false };
}

/** Builds the configuration of the bench chain. */
export function benchConfig(options: Pick<BenchChainOptions, "backendUrl" | "staticMode" | "stateDir" | "edgePort" | "listenerPort">): EdgelockConfig {
  const staticAction =
    (options.staticMode ?? "fixed") === "fixed"
      ? { fixedResponse: { statusCode: 200, contentType: "application/json" as const, messageBody: STATIC_BODY } }
      : { forward: "static" };
  const echoTarget =
    options.backendUrl === undefined
      ? { type: "lambda" as const, handler: "echo", requireAccessToken: false }
      : {
          type: "http" as const,
          url: options.backendUrl,
          // The backend serves every path. One check a minute keeps the checks out of the measurements.
          healthCheck: { path: "/", intervalSeconds: 60, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200" },
        };
  const input: EdgelockConfigInput = {
    name: "edgelock-bench",
    hosts: { app: "app.example.com", origin: "origin.example.com" },
    access: {
      teamName: "bench",
      applications: [{ name: "anchor", policies: [{ name: "bypass-everyone", decision: "bypass", include: [{ everyone: true }] }] }],
    },
    alb: {
      mutualAuthentication: { mode: "verify" },
      rules: [
        { priority: 10, conditions: { pathPattern: ["/static"] }, action: staticAction },
        { priority: 20, conditions: { pathPattern: ["/echo", "/echo/*"] }, action: { forward: "echo" } },
      ],
    },
    targets: {
      echo: echoTarget,
      ...(options.staticMode === "lambda" ? { static: { type: "lambda" as const, handler: "static", requireAccessToken: false } } : {}),
    },
    local: {
      stateDir: options.stateDir,
      // The anchor's clients connect to 127.0.0.1 and send it as Host; the team domain is never visited.
      edge: { host: "127.0.0.1", teamHost: "localhost", port: options.edgePort || 8443 },
      alb: { host: ORIGIN_SERVER_NAME, port: options.listenerPort || 9443 },
    },
  };
  return parseConfig(input, "bench chain configuration");
}

function targetGroupArn(name: string): string {
  return `arn:aws:elasticloadbalancing:local:000000000000:targetgroup/edgelock-bench-${name}/0123456789abcdef`;
}

interface StartedTargets {
  targets: Map<string, Target>;
  stop(): Promise<void>;
}

async function startTargets(config: EdgelockConfig, logger: Logger): Promise<StartedTargets> {
  const targets = new Map<string, Target>();
  const stops: (() => Promise<void>)[] = [];
  for (const [name, target] of Object.entries(config.targets)) {
    if (target.type === "http") {
      const http = createHttpTarget({
        name,
        url: target.url,
        healthCheck: target.healthCheck,
        idleTimeoutSeconds: config.alb.attributes.idleTimeoutSeconds,
        logger: logger.child({ target: name }),
        targetGroupArn: targetGroupArn(name),
      });
      await http.start();
      if (http.state() !== "healthy") {
        await http.stop();
        throw new EdgelockError("ERR_BENCH_BACKEND", `the echo backend ${target.url} failed its first health check (${http.health().description}); start it before the chain`);
      }
      targets.set(name, http);
      stops.push(() => http.stop());
      continue;
    }
    // "static" is this file's handler, not a module path: the chain never loads handler modules.
    const handler: LambdaHandler = target.handler === "static" ? staticHandler : createEchoHandler();
    targets.set(
      name,
      createLambdaTarget({
        handler,
        targetGroupArn: targetGroupArn(name),
        multiValueHeaders: target.multiValueHeaders,
        timeoutSeconds: target.timeoutSeconds,
        local: config.local.alb,
        logger: logger.child({ target: name }),
      }),
    );
  }
  return {
    targets,
    async stop() {
      for (const stop of stops) await stop();
    },
  };
}

/** Starts the part of the chain named by `role` and resolves once it listens. */
export async function startBenchChain(options: BenchChainOptions): Promise<BenchChain> {
  const { certificates, logger } = options;
  const config = benchConfig(options);
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const logDir = options.listenerLogs === false ? undefined : join(options.stateDir, "logs");

  let listener: Listener | undefined;
  let targets: StartedTargets | undefined;
  let edge: Edge | undefined;
  try {
    if (options.role !== "edge") {
      targets = await startTargets(config, logger.child({ stage: "target" }));
      listener = await createListener({
        alb: config.alb,
        local: config.local.alb,
        serverCertificate: certificates.origin,
        trustStore: createTrustStore({ bundle: certificates.caPem, bundleSource: "ca.crt" }),
        targets: targets.targets,
        logger: logger.child({ stage: "listener" }),
        ...(logDir === undefined ? {} : { logDir }),
        port: options.listenerPort,
      });
    }

    if (options.role !== "listener") {
      const listenerPort = listener?.port ?? options.listenerPort;
      const accessDir = join(options.stateDir, "access");
      const local = { ...config.local.edge, port: options.edgePort };
      edge = await createEdge({
        config,
        local,
        // The application covers hosts.app; locally it answers on the edge's host, 127.0.0.1.
        applications: compileApplications(config, (host) => (host === config.hosts.app ? local.host : host)),
        signingKeys: await openSigningKeys(accessDir),
        serviceTokens: openServiceTokenStore(join(accessDir, "service-tokens.json")),
        stateDir: options.stateDir,
        tls: certificates.edge,
        origin: {
          url: `https://127.0.0.1:${listenerPort}`,
          clientCertificate: certificates.client,
          caPem: certificates.caPem,
          servername: ORIGIN_SERVER_NAME,
        },
        logger: logger.child({ stage: "edge" }),
      });
    }
  } catch (error) {
    await edge?.close();
    await listener?.close();
    await targets?.stop();
    throw error;
  }

  return {
    edgePort: edge?.port,
    listenerPort: listener?.port,
    logDir: listener === undefined ? undefined : logDir,
    async close() {
      await edge?.close();
      await listener?.close();
      await targets?.stop();
    },
  };
}
