/**
 * The local edge: one HTTPS server (HTTP/1.1 and HTTP/2) on loopback that plays Cloudflare for the app host
 * (Access gate, then origin pull) and for the team domain (login, JWKS), routed by Host and SNI.
 */
import { createSecureServer, type Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { CompiledApplication } from "../access/index.ts";
import type { EdgelockConfig, LocalEdgeConfig } from "../config/index.ts";
import { messageOf } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { handleAppRequest } from "./access-gate.ts";
import { handleTeamHostEdgePath } from "./cdn-cgi.ts";
import { createRequestContext, type EdgeRequest, type EdgeResponse, type RequestContext } from "./context.ts";
import { EdgeError } from "./errors.ts";
import { createAuthorizationGrants } from "./login/grants.ts";
import { createPinStore } from "./login/otp.ts";
import { createOriginPool } from "./origin/pool.ts";
import { sendResponse } from "./responses.ts";
import type { EdgeRuntime, PinSentCallback } from "./runtime.ts";
import type { EdgeServiceTokens, EdgeSigningKeys } from "./tokens.ts";

export interface EdgeOriginOptions {
  /** Origin base URL, such as "https://alb.localhost:9443"; only loopback hosts are accepted. */
  url: string;
  /** Authenticated Origin Pulls client certificate and key, PEM. */
  clientCertificate: { certPem: string; keyPem: string };
  /** CA certificates that validate the origin in "strict" mode (Full strict), PEM. Default: Node's public roots. */
  caPem?: string;
  /** SNI and the name the origin's certificate must match. Default: the URL's host. */
  servername?: string;
}

export interface EdgeOptions {
  config: EdgelockConfig;
  /** The `local.edge` section: hosts, port, country, colo, SSL mode, OTP and timeouts. */
  local: LocalEdgeConfig;
  /** Applications compiled with local host names, such as "app.localhost". */
  applications: CompiledApplication[];
  signingKeys: EdgeSigningKeys;
  serviceTokens: EdgeServiceTokens;
  /** State folder; PIN messages go to `<stateDir>/outbox/`. */
  stateDir: string;
  /** Server certificate and key, PEM; the certificate must name the app host and the team host. */
  tls: { certPem: string; keyPem: string };
  origin: EdgeOriginOptions;
  logger: Logger;
  /** Clock. Default: `() => new Date()`. */
  now?: () => Date;
  /** Called with each PIN written to the outbox, for the terminal. Default: nothing. */
  onPinSent?: PinSentCallback;
  /** Address to listen on. Default "127.0.0.1". */
  listenAddress?: string;
  /** Milliseconds close() waits for running requests before it cuts connections. Default 5000. */
  closeTimeoutMs?: number;
}

export interface Edge {
  /** Port the server listens on (the configured one, or the one the system chose for port 0). */
  readonly port: number;
  /** Stops accepting connections, lets running requests finish (up to closeTimeoutMs), then closes the origin pool. */
  close(): Promise<void>;
  /** Rotates the signing keys: a new key signs from now on, the previous one stays in the JWKS for the grace period. */
  rotateKeys(): Promise<void>;
}

function validateOptions(options: EdgeOptions): void {
  const problems: string[] = [];
  if (!options.tls.certPem.includes("BEGIN CERTIFICATE")) problems.push('"tls.certPem" must be a PEM certificate');
  if (!options.tls.keyPem.includes("PRIVATE KEY")) problems.push('"tls.keyPem" must be a PEM private key');
  if (!options.origin.clientCertificate.certPem.includes("BEGIN CERTIFICATE")) problems.push('"origin.clientCertificate.certPem" must be a PEM certificate');
  if (!options.origin.clientCertificate.keyPem.includes("PRIVATE KEY")) problems.push('"origin.clientCertificate.keyPem" must be a PEM private key');
  if (options.local.host === options.local.teamHost) problems.push(`"local.host" and "local.teamHost" must differ (both are "${options.local.host}")`);
  if (problems.length > 0) throw new EdgeError("ERR_EDGE_OPTIONS", `invalid edge options: ${problems.join("; ")}`);
}

/** Collects the hosts served as app hosts: the configured one plus every application host without a wildcard. */
function servedAppHosts(local: LocalEdgeConfig, applications: readonly CompiledApplication[]): Set<string> {
  const hosts = new Set([local.host]);
  for (const app of applications) {
    const host = app.pattern.hostLabels.join(".");
    if (!host.includes("*")) hosts.add(host);
  }
  return hosts;
}

/** Starts the edge and resolves once it listens. */
export async function createEdge(options: EdgeOptions): Promise<Edge> {
  validateOptions(options);
  const { local, logger } = options;
  const now = options.now ?? (() => new Date());
  const origin = createOriginPool({
    ...options.origin,
    sslMode: local.sslMode,
    connectTimeoutMs: local.originConnectTimeoutSeconds * 1000,
    responseTimeoutMs: local.originResponseTimeoutSeconds * 1000,
  });

  const runtime: EdgeRuntime = {
    config: options.config,
    local,
    applications: options.applications,
    signingKeys: options.signingKeys,
    serviceTokens: options.serviceTokens,
    stateDir: options.stateDir,
    appHosts: servedAppHosts(local, options.applications),
    teamHost: local.teamHost,
    port: local.port,
    pins: createPinStore({ length: local.otp.length, ttlSeconds: local.otp.ttlSeconds, maxAttempts: local.otp.maxAttempts }),
    grants: createAuthorizationGrants(),
    loggedOut: new Map(),
    origin,
    logger,
    now,
    onPinSent: options.onPinSent ?? (() => {}),
  };

  const server = createSecureServer({ cert: options.tls.certPem, key: options.tls.keyPem, allowHTTP1: true, minVersion: "TLSv1.2" });
  const sessions = new Set<Http2Session>();
  const sockets = new Map<Socket, number>();
  let closing = false;

  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (closing) session.close();
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.alpnProtocol === "h2") return;
    sockets.set(socket, 0);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("request", (request: EdgeRequest, response: EdgeResponse) => {
    const socket = "stream" in request ? undefined : (request.socket as Socket);
    if (socket !== undefined) sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    response.once("close", () => {
      if (socket === undefined || !sockets.has(socket)) return;
      const active = (sockets.get(socket) ?? 1) - 1;
      sockets.set(socket, active);
      if (closing && active === 0) socket.destroy();
    });
    void handleRequest(runtime, request, response);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new EdgeError("ERR_EDGE_LISTEN", `the edge cannot listen on ${options.listenAddress ?? "127.0.0.1"}:${local.port} (${error.code ?? error.message}); free the port or set local.edge.port`, { cause: error }));
    };
    server.once("error", onError);
    server.listen(local.port, options.listenAddress ?? "127.0.0.1", () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  runtime.port = typeof address === "object" && address !== null ? address.port : local.port;
  logger.info({ event: "edge_started", port: runtime.port, appHosts: [...runtime.appHosts], teamHost: runtime.teamHost, sslMode: local.sslMode }, "local edge listening");

  return {
    get port() {
      return runtime.port;
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const [socket, active] of sockets) if (active === 0) socket.destroy();
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets.keys()) socket.destroy();
      }, options.closeTimeoutMs ?? 5000);
      await closed;
      clearTimeout(timer);
      await origin.close();
      logger.info({ event: "edge_stopped", port: runtime.port }, "local edge stopped");
    },
    async rotateKeys() {
      const key = await runtime.signingKeys.rotate(now());
      logger.info({ event: "signing_key_rotated", kid: key.kid }, "signing keys rotated; the previous key stays in the JWKS for the grace period");
    },
  };
}

/** Returns the SNI the client sent, or undefined. */
function serverName(request: EdgeRequest): string | undefined {
  const name = (request.socket as TLSSocket).servername;
  return typeof name === "string" && name !== "" ? name.toLowerCase() : undefined;
}

async function handleRequest(runtime: EdgeRuntime, request: EdgeRequest, response: EdgeResponse): Promise<void> {
  const context = createRequestContext(request, response, {
    colo: runtime.local.colo,
    country: runtime.local.country,
    clientIp: runtime.local.clientIp,
    now: runtime.now(),
    logger: runtime.logger,
  });
  response.once("finish", () => {
    runtime.logger.info({ rayId: context.rayId, event: "request", method: request.method, host: context.host, path: context.url.pathname, status: response.statusCode }, "request handled");
  });

  try {
    await route(runtime, context);
  } catch (error) {
    context.log.error({ event: "edge_failed", err: error }, `edge failed to handle the request: ${messageOf(error)}`);
    if (!response.headersSent) sendResponse(context, 500, {}, `Internal error at the edge. Ray ID: ${context.rayId}\n`);
    else response.destroy();
  }
}

async function route(runtime: EdgeRuntime, context: RequestContext): Promise<void> {
  const sni = serverName(context.request);
  const known = runtime.appHosts.has(context.host) || context.host === runtime.teamHost;
  if (!known || (sni !== undefined && sni !== context.host)) {
    const served = [...runtime.appHosts, runtime.teamHost].join(", ");
    sendResponse(context, 421, {}, `This edge serves ${served}; the request named "${context.host}"${sni !== undefined && sni !== context.host ? ` over a TLS connection for "${sni}"` : ""}.\n`);
    return;
  }

  if (context.host === runtime.teamHost) {
    if (context.url.pathname.startsWith("/cdn-cgi/access/")) await handleTeamHostEdgePath(runtime, context);
    else sendResponse(context, 404, {}, "Not Found\n");
    return;
  }
  await handleAppRequest(runtime, context);
}
