/**
 * The only way `edgelock check` reaches the network: one HTTPS/1.1 GET per probe over a fresh TLS connection,
 * to an allowed host only, bounded by the check's abort signal. A probe returns how the exchange ended (a
 * response, a connection closed before any HTTP bytes, an unreachable host, an untrusted server certificate)
 * instead of throwing, because for half of the checks "no response" is the expected outcome.
 */
import { lookup } from "node:dns/promises";
import type { IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { connect as tlsConnect, rootCertificates, type TLSSocket } from "node:tls";
import { CheckError } from "./errors.ts";
import type { ConnectionRecord } from "./types.ts";

/** Largest response body a probe keeps; the echo JSON and a JWKS are far smaller. */
const MAX_BODY_BYTES = 1_048_576;

/** OpenSSL verify results and Node's host-name error: the server certificate, not the client, is the problem. */
const SERVER_CERTIFICATE_CODES = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

export interface ClientCertificate {
  certPem: string;
  keyPem: string;
}

export interface ProbeRequest {
  /** https URL to GET; its path and query are sent as they are. */
  url: URL;
  headers?: Record<string, string>;
  /** Client certificate to present when the server requests one. */
  clientCertificate?: ClientCertificate;
  /** Aborts the probe; the probe then rejects with ERR_CHECK_TIMEOUT. */
  signal: AbortSignal;
}

/** The outcome of one probe. */
export type ProbeOutcome =
  | { kind: "response"; status: number; headers: IncomingHttpHeaders; body: string }
  /** The server ended the connection before any HTTP bytes: "reset" (TCP RST), "closed" (FIN or close_notify) or a TLS "alert". */
  | { kind: "no-response"; ending: "reset" | "closed" | "alert"; duringHandshake: boolean; detail: string }
  /** The server certificate did not verify against the trusted CAs or does not name the host. */
  | { kind: "untrusted-server"; code: string; detail: string }
  /** No TCP connection: refused, no route, or the name did not resolve. */
  | { kind: "unreachable"; code: string; detail: string }
  /** Anything else, with Node's error code and message. */
  | { kind: "failed"; code: string; detail: string };

export interface ConnectorOptions {
  /** The hosts a probe may reach, as URLs; only the scheme-less host and port count. */
  allowed: readonly URL[];
  /**
   * Extra CA certificates (PEM) trusted for a host name, on top of Node's bundled root CAs. Default: none, so
   * only the bundled roots verify server certificates.
   */
  extraCaFor?: (hostname: string) => readonly string[];
  /** Resolves a host name to an address. Default: *.localhost to 127.0.0.1 (glibc does not), others by DNS. */
  resolve?: (hostname: string) => Promise<string>;
}

/** Returns "host:port" with the https default port filled in, the key the allow list uses. */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port === "" ? 443 : Number(url.port)}`;
}

/** Returns true for host names and addresses on this machine: localhost, *.localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

async function defaultResolve(hostname: string): Promise<string> {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0) return host;
  if (host === "localhost" || host.endsWith(".localhost")) return "127.0.0.1";
  return (await lookup(host)).address;
}

/** Turns a TLS alert error code such as ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED into "certificate required". */
function alertName(code: string): string {
  return code.replace(/^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/, "").toLowerCase().replaceAll("_", " ");
}

function classifyError(error: NodeJS.ErrnoException, duringHandshake: boolean): ProbeOutcome {
  const code = error.code ?? "UNKNOWN";
  const detail = error.message;
  if (SERVER_CERTIFICATE_CODES.has(code)) return { kind: "untrusted-server", code, detail };
  if (UNREACHABLE_CODES.has(code)) return { kind: "unreachable", code, detail };
  if (/^ERR_SSL_.*_ALERT_/.test(code)) return { kind: "no-response", ending: "alert", duringHandshake, detail: `TLS alert "${alertName(code)}"` };
  const closed = detail === "socket hang up" || detail.includes("disconnected before secure TLS connection was established");
  if (code === "ECONNRESET" && closed) return { kind: "no-response", ending: "closed", duringHandshake, detail: "connection closed" };
  if (code === "ECONNRESET" || code === "EPIPE") return { kind: "no-response", ending: "reset", duringHandshake, detail: "connection reset" };
  return { kind: "failed", code, detail };
}

/** Opens connections to the allowed hosts only, and records each one. */
export class Connector {
  readonly connections: ConnectionRecord[] = [];
  readonly #allowed = new Set<string>();
  readonly #extraCaFor: (hostname: string) => readonly string[];
  readonly #resolve: (hostname: string) => Promise<string>;

  constructor(options: ConnectorOptions) {
    for (const url of options.allowed) this.#allowed.add(hostKey(url));
    this.#extraCaFor = options.extraCaFor ?? (() => []);
    this.#resolve = options.resolve ?? defaultResolve;
  }

  /** Adds a host to the allow list: the team domain once the app's login redirect names it. */
  allow(url: URL): void {
    this.#allowed.add(hostKey(url));
  }

  /** Sends one GET and returns how it ended. Rejects only with ERR_CHECK_HOST_NOT_ALLOWED or ERR_CHECK_TIMEOUT. */
  async probe(request: ProbeRequest): Promise<ProbeOutcome> {
    const { url, signal } = request;
    const key = hostKey(url);
    if (url.protocol !== "https:") throw new CheckError("ERR_CHECK_OPTIONS", `only https:// URLs can be checked (got "${url.href}")`);
    if (!this.#allowed.has(key)) {
      throw new CheckError("ERR_CHECK_HOST_NOT_ALLOWED", `refusing to connect to ${key}: only the app host, the origin host and the team domain from the app's login redirect are allowed`);
    }
    if (signal.aborted) throw timeoutError();

    let address: string;
    try {
      address = await raceAbort(this.#resolve(url.hostname), signal);
    } catch (error) {
      if (error instanceof CheckError) throw error;
      const failure = error as NodeJS.ErrnoException;
      return { kind: "unreachable", code: failure.code ?? "ENOTFOUND", detail: `${url.hostname} did not resolve: ${failure.message}` };
    }
    this.connections.push({ host: url.hostname.toLowerCase(), port: Number(key.split(":").pop()), address });
    return this.#exchange(request, address);
  }

  #exchange(request: ProbeRequest, address: string): Promise<ProbeOutcome> {
    const { url, signal } = request;
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const port = url.port === "" ? 443 : Number(url.port);

    return new Promise<ProbeOutcome>((resolve, reject) => {
      let settled = false;
      let secured = false;
      const socket: TLSSocket = tlsConnect({
        host: address,
        port,
        ...(isIP(hostname) === 0 ? { servername: hostname } : {}),
        ca: [...rootCertificates, ...this.#extraCaFor(hostname)],
        ...(request.clientCertificate ? { cert: request.clientCertificate.certPem, key: request.clientCertificate.keyPem } : {}),
        ALPNProtocols: ["http/1.1"],
      });
      socket.once("secureConnect", () => {
        secured = true;
      });

      const finish = (outcome: ProbeOutcome | CheckError) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        if (outcome instanceof CheckError) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = () => finish(timeoutError());
      signal.addEventListener("abort", onAbort, { once: true });

      const outgoing = httpsRequest(
        {
          method: "GET",
          path: `${url.pathname}${url.search}`,
          headers: { host: url.host, accept: "*/*", "user-agent": "edgelock-check", ...request.headers, connection: "close" },
          createConnection: () => socket,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= MAX_BODY_BYTES) chunks.push(chunk);
          });
          response.on("end", () =>
            finish({ kind: "response", status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
          );
          response.on("error", (error) => finish(classifyError(error as NodeJS.ErrnoException, false)));
        },
      );
      outgoing.on("error", (error) => finish(classifyError(error as NodeJS.ErrnoException, !secured)));
      outgoing.end();
    });
  }
}

function timeoutError(): CheckError {
  return new CheckError("ERR_CHECK_TIMEOUT", "the check timed out");
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(timeoutError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
