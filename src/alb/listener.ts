/**
 * The local ALB's HTTPS listener: HTTP/1.1 and HTTP/2 by ALPN on one TLS port, with the listener's security policy
 * and mutual TLS mode. Each connection passes acceptConnection before the HTTP layer receives it, so a rejected
 * client never reaches a rule or a target. What is left out: redirects, authenticate actions, WAF, health checks.
 */
import { createServer as createHttpsServer } from "node:https";
import { createSecureServer } from "node:http2";
import { join } from "node:path";
import type { Socket } from "node:net";
import type { TLSSocket, Server as TlsServer } from "node:tls";
import type { ServerHttp2Session } from "node:http2";
import type { Logger } from "pino";
import type { AlbConfig } from "../config/schema/alb.ts";
import type { LocalAlbConfig } from "../config/schema/local.ts";
import type { Target } from "../targets/index.ts";
import { acceptConnection, CONNECTION_STATE, logFailedHandshake, type ConnectionContext, type ConnectionState } from "./connection.ts";
import { AlbError } from "./errors.ts";
import { reservedHeaderNames } from "./headers/mtls-headers.ts";
import { classifyParserError, type ParserError } from "./http-validation.ts";
import { formatAccessLogLine } from "./logs/access-log.ts";
import { openLogFile } from "./logs/log-file.ts";
import { handleRequest, type AnyRequest, type AnyResponse, type RequestContext } from "./request-handler.ts";
import { writeRawErrorPage } from "./responses.ts";
import { compileRules } from "./rules.ts";
import { tlsOptionsForPolicy } from "./tls-policy.ts";
import { loadTrustStore, type LoadTrustStoreOptions, type TrustStore } from "./trust-store.ts";

export interface ListenerOptions {
  alb: AlbConfig;
  local: LocalAlbConfig;
  /** The listener's server certificate and key, PEM. */
  serverCertificate: { certPem: string; keyPem: string };
  /** The trust store in force at start. */
  trustStore: TrustStore;
  /** Files `reloadTrustStore()` reads again. Without them, reloading needs an explicit TrustStore. */
  trustStoreFiles?: LoadTrustStoreOptions;
  /** Targets by name, as the rules' forward actions name them. */
  targets: ReadonlyMap<string, Target>;
  logger: Logger;
  /** Folder of connection.log and access.log. Default: no log files. */
  logDir?: string;
  /** Address to listen on. Default "127.0.0.1". */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Load balancer id in the logs. Default "app/edgelock-local/0000000000000000". */
  elb?: string;
}

export interface Listener {
  /** The port the listener is bound to. */
  readonly port: number;
  readonly address: string;
  /** Open client connections. */
  readonly connections: number;
  /** Replaces the trust store for new connections: the given one, or the files read again. Returns the new store. */
  reloadTrustStore(store?: TrustStore): TrustStore;
  /** Stops accepting, lets in-flight requests finish, closes every connection and the log files. */
  close(): Promise<void>;
}

function checkTargets(options: ListenerOptions): void {
  const actions = [...options.alb.rules.map((rule) => rule.action), options.alb.defaultAction];
  for (const action of actions) {
    if ("forward" in action && !options.targets.has(action.forward)) {
      throw new AlbError("ERR_ALB_LISTENER", `a rule forwards to target "${action.forward}", but the listener was given only ${[...options.targets.keys()].map((name) => `"${name}"`).join(", ") || "no targets"}; pass it in "targets"`);
    }
  }
}

/** Starts the listener and resolves once it is bound. */
export async function createListener(options: ListenerOptions): Promise<Listener> {
  checkTargets(options);
  const { alb, local, logger } = options;
  const mode = alb.mutualAuthentication.mode;
  const advertise = mode === "verify" && alb.mutualAuthentication.advertiseTrustStoreCaNames === "on";
  let trustStore = options.trustStore;
  let closing = false;
  let closed: Promise<void> | undefined;

  const connectionLog = openLogFile(options.logDir === undefined ? undefined : join(options.logDir, "connection.log"));
  const accessLog = openLogFile(options.logDir === undefined ? undefined : join(options.logDir, "access.log"));
  const elb = options.elb ?? "app/edgelock-local/0000000000000000";
  const connectionContext: ConnectionContext = { alb, local, trustStore: () => trustStore, elb, logger, connectionLog };
  const requestContext: RequestContext = {
    alb,
    local,
    elb,
    targets: options.targets,
    matchRule: compileRules(alb.rules, alb.defaultAction),
    reservedHeaders: reservedHeaderNames(alb.headerNames),
    logger,
    accessLog,
    closing: () => closing,
  };

  // CA names go into the CertificateRequest only through the `ca` option, so it is set only when advertised.
  const tlsOptions = {
    key: options.serverCertificate.keyPem,
    cert: options.serverCertificate.certPem,
    ...tlsOptionsForPolicy(alb.sslPolicy, mode !== "off"),
    requestCert: mode !== "off",
    rejectUnauthorized: false,
    ...(advertise ? { ca: [...trustStore.certificatePems] } : {}),
  };
  const server: TlsServer = alb.attributes.http2 ? createSecureServer({ ...tlsOptions, allowHTTP1: true }) : createHttpsServer({ ...tlsOptions, ALPNProtocols: ["http/1.1"] });

  // The HTTP layer's own connection listener runs only for sockets acceptConnection lets through.
  const httpConnectionListener = server.listeners("secureConnection")[0] as ((socket: TLSSocket) => void) | undefined;
  if (httpConnectionListener === undefined) throw new AlbError("ERR_ALB_LISTENER", "the HTTP server has no secureConnection listener to wrap; this Node version is not supported", { kind: "internal" });
  server.removeAllListeners("secureConnection");

  const sockets = new Set<TLSSocket>();
  const sessions = new Set<ServerHttp2Session>();
  const acceptedAt = new WeakMap<Socket, number>();
  server.on("connection", (socket: Socket) => acceptedAt.set(socket, performance.now()));
  server.on("secureConnection", (socket: TLSSocket) => {
    const start = acceptedAt.get((socket as unknown as { _parent: Socket })._parent);
    const state = acceptConnection(socket, connectionContext, start === undefined ? undefined : (performance.now() - start) / 1000);
    if (state === undefined) return;

    (socket as unknown as Record<symbol, ConnectionState>)[CONNECTION_STATE] = state;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    httpConnectionListener.call(server, socket);
  });
  server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
    logFailedHandshake(connectionContext, (socket as unknown as { _parent?: Socket })._parent ?? socket, error);
  });
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("clientError", (error: ParserError & Error, socket: Socket) => {
    const rejection = classifyParserError(error);
    const sent = writeRawErrorPage(socket, rejection.status);
    const state = (socket as unknown as Record<symbol, ConnectionState | undefined>)[CONNECTION_STATE];
    logger.info({ code: error.code, status: rejection.status, reason: rejection.reason, connTraceId: state?.connTraceId }, `request rejected by the HTTP parser: ${error.message}`);
    if (state === undefined) return;
    accessLog.append(
      formatAccessLogLine({
        type: "https", time: new Date(), elb, clientIp: state.clientIp, clientPort: state.clientPort, target: undefined,
        requestProcessingSeconds: -1, targetProcessingSeconds: -1, responseProcessingSeconds: -1,
        elbStatusCode: rejection.status, targetStatusCode: undefined, receivedBytes: error.rawPacket?.length ?? 0, sentBytes: sent,
        request: "- - - ", userAgent: undefined, sslCipher: state.tlsCipher, sslProtocol: state.tlsProtocol, targetGroupArn: undefined,
        traceId: undefined, domainName: state.serverName, matchedRulePriority: undefined, requestCreationTime: new Date(), actionsExecuted: [],
        errorReason: undefined, classification: rejection.classification, classificationReason: rejection.reason, connTraceId: state.connTraceId,
      }),
    );
  });
  server.on("request", (request: AnyRequest, response: AnyResponse) => {
    handleRequest(request, response, requestContext).catch((error: unknown) => logger.error({ err: error }, "request handler failed"));
  });
  // Idle connections close after the ALB's idle timeout: HTTP/2 sessions and HTTP/1.1 sockets alike.
  (server as unknown as { setTimeout(ms: number): void }).setTimeout(alb.attributes.idleTimeoutSeconds * 1000);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as { port: number; address: string };
  logger.info({ address: bound.address, port: bound.port, mode, sslPolicy: alb.sslPolicy, http2: alb.attributes.http2 }, "ALB listener started");

  return {
    port: bound.port,
    address: bound.address,
    get connections() {
      return sockets.size;
    },
    reloadTrustStore(store?: TrustStore) {
      if (store === undefined && options.trustStoreFiles === undefined) {
        throw new AlbError("ERR_ALB_LISTENER", "reloadTrustStore() needs a TrustStore because the listener was started without trustStoreFiles");
      }
      trustStore = store ?? loadTrustStore(options.trustStoreFiles as LoadTrustStoreOptions);
      if (advertise) server.setSecureContext({ ...tlsOptions, ca: [...trustStore.certificatePems] });
      logger.info({ certificates: trustStore.certificates.length, revocationLists: trustStore.revocationLists.length }, "trust store reloaded");
      return trustStore;
    },
    close() {
      closed ??= closeListener();
      return closed;
    },
  };

  /** Stops accepting, lets in-flight requests finish, then closes every connection and the log files. */
  async function closeListener(): Promise<void> {
    closing = true;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of sessions) session.close();
    for (const socket of sockets) {
      const state = (socket as unknown as Record<symbol, ConnectionState | undefined>)[CONNECTION_STATE];
      if (socket.alpnProtocol !== "h2" && (state?.inFlight ?? 0) === 0) socket.end();
    }
    await serverClosed;
    await Promise.all([connectionLog.close(), accessLog.close()]);
    logger.info({ port: bound.port }, "ALB listener stopped");
  }
}
