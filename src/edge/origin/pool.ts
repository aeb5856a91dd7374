/**
 * The origin pull: Cloudflare connects to the origin over TLS, presents the Authenticated Origin Pulls client
 * certificate when the origin requests one, and in Full (strict) validates the origin's certificate against
 * trusted roots and the host name. We keep one undici pool with keep-alive to the configured origin, connect to
 * loopback only (glibc does not resolve *.localhost), and validate against the given CA instead of public roots.
 */
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import { buildConnector, Pool, type Dispatcher } from "undici";
import { EdgeError } from "../errors.ts";
import { classifyOriginFailure, type ConnectionEvidence, type OriginFailure } from "./errors.ts";

export interface OriginSettings {
  /** Origin base URL, such as "https://alb.localhost:9443"; the host must be loopback or end in ".localhost". */
  url: string;
  /** Certificate and key the edge presents when the origin requests a client certificate. */
  clientCertificate: { certPem: string; keyPem: string };
  /** CA certificates that validate the origin's server certificate in "strict" mode. Default: Node's public roots. */
  caPem?: string;
  /** SNI and the name the origin certificate must match. Default: the URL's host. */
  servername?: string;
  /** "strict" validates the origin certificate (Full strict); "full" accepts any (Full). */
  sslMode: "full" | "strict";
  /** Milliseconds for the TCP and TLS handshake before a 522. */
  connectTimeoutMs: number;
  /** Milliseconds for the response headers before a 524. */
  responseTimeoutMs: number;
}

export interface OriginRequest {
  method: string;
  /** Path and query, such as "/a?b=1". */
  path: string;
  headers: Record<string, string | string[]>;
  /** Request body; undefined for GET and HEAD. */
  body?: Readable;
}

export type OriginResult =
  | { ok: true; response: Dispatcher.ResponseData }
  | { ok: false; failure: OriginFailure; error: unknown };

export interface OriginPool {
  /** Sends one request; resolves with the response, or with the failure status shown to the visitor. */
  forward(request: OriginRequest): Promise<OriginResult>;
  /** Closes idle connections and waits for running requests. */
  close(): Promise<void>;
}

/** Returns the loopback address to connect to for an origin URL, or throws ERR_EDGE_ORIGIN_URL. */
export function loopbackAddress(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return "127.0.0.1";
  if (isIP(host) === 4 && host.startsWith("127.")) return host;
  if (host === "::1") return host;
  throw new EdgeError(
    "ERR_EDGE_ORIGIN_URL",
    `origin URL "${url.href}" must point at loopback (127.0.0.0/8, ::1 or a *.localhost name); the local edge talks to no other host`,
  );
}

/** Records whether the origin sends a session ticket on a new connection, and drops the record 5 s after the connection closes. */
function watchConnection(socket: TLSSocket, evidenceByPort: Map<number, ConnectionEvidence>): void {
  const localPort = socket.localPort;
  if (localPort === undefined) return;
  const evidence: ConnectionEvidence = { sessionTicketReceived: false, protocol: socket.getProtocol() ?? undefined };
  evidenceByPort.set(localPort, evidence);
  socket.once("session", () => {
    evidence.sessionTicketReceived = true;
  });
  socket.once("close", () => {
    setTimeout(() => {
      if (evidenceByPort.get(localPort) === evidence) evidenceByPort.delete(localPort);
    }, 5_000).unref();
  });
}

/** Creates the pool that pulls from the origin. */
export function createOriginPool(settings: OriginSettings): OriginPool {
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch (error) {
    throw new EdgeError("ERR_EDGE_ORIGIN_URL", `origin URL "${settings.url}" is not a valid URL; use one such as "https://alb.localhost:9443"`, { cause: error });
  }
  if (url.protocol !== "https:") {
    throw new EdgeError("ERR_EDGE_ORIGIN_URL", `origin URL "${settings.url}" must use https: Authenticated Origin Pulls need TLS`);
  }
  const address = loopbackAddress(url);
  const servername = settings.servername ?? (isIP(url.hostname) === 0 ? url.hostname : undefined);
  const strict = settings.sslMode === "strict";

  const connector = buildConnector({
    cert: settings.clientCertificate.certPem,
    key: settings.clientCertificate.keyPem,
    ...(strict && settings.caPem !== undefined ? { ca: settings.caPem } : {}),
    rejectUnauthorized: strict,
    timeout: settings.connectTimeoutMs,
    // Every connection pays a full handshake, as the ALB does not resume sessions in mTLS verify mode.
    maxCachedSessions: 0,
  });
  const connectErrors = new WeakSet<object>();
  // Evidence per local port, because undici's socket errors name the connection only by its addresses.
  const evidenceByPort = new Map<number, ConnectionEvidence>();
  const connect: buildConnector.connector = (options, callback) => {
    connector({ ...options, hostname: address, ...(servername === undefined ? {} : { servername }) }, (...args) => {
      const [error, socket] = args;
      if (error !== null) {
        if (typeof error === "object") connectErrors.add(error);
      } else {
        watchConnection(socket as TLSSocket, evidenceByPort);
      }
      callback(...args);
    });
  };

  const pool = new Pool(url.origin, { connect, headersTimeout: settings.responseTimeoutMs, keepAliveTimeout: 4_000 });

  return {
    async forward(request) {
      try {
        const response = await pool.request({
          method: request.method as Dispatcher.HttpMethod,
          path: request.path,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        return { ok: true, response };
      } catch (error) {
        const phase = error !== null && typeof error === "object" && connectErrors.has(error) ? "connect" : "response";
        const localPort = (error as { socket?: { localPort?: number } } | null)?.socket?.localPort;
        const evidence = localPort === undefined ? undefined : evidenceByPort.get(localPort);
        return { ok: false, failure: classifyOriginFailure(error, phase, evidence), error };
      }
    },
    async close() {
      await pool.close();
    },
  };
}
