/**
 * The per-connection step of the listener, run once after each TLS handshake: read the client certificate once,
 * verify it in verify mode, compute the connection's mTLS headers, and write the connection-log line. A rejected
 * connection gets no HTTP response: by default a TCP reset, as observed on a real ALB under TLS 1.3.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { AlbConfig } from "../config/schema/alb.ts";
import type { LocalAlbConfig } from "../config/schema/local.ts";
import { passthroughHeader, tlsHeaders, verifyModeHeaders, type HeaderList } from "./headers/mtls-headers.ts";
import { createConnTraceId, formatConnectionLogLine, type ConnectionLogEntry } from "./logs/connection-log.ts";
import type { LogFile } from "./logs/log-file.ts";
import { formatValidity, parseCertificateCached, type CertificateInfo } from "./mtls/certificate-info.ts";
import { verifyStatus, type FailureReason } from "./mtls/reasons.ts";
import { verifyClientCertificate } from "./mtls/verify.ts";
import type { TrustStore } from "./trust-store.ts";

/** The request step's view of a connection, stored on the socket under CONNECTION_STATE. */
export interface ConnectionState {
  connTraceId: string;
  clientIp: string;
  clientPort: number;
  listenerPort: number;
  tlsProtocol: string;
  tlsCipher: string;
  /** SNI host name, for the access log's domain_name. */
  serverName: string | undefined;
  /** mTLS and TLS headers, computed once for every request of the connection. */
  connectionHeaders: HeaderList;
  /** Requests of this connection still in progress. */
  inFlight: number;
}

/** Symbol under which a socket carries its ConnectionState; HTTP/2's socket proxy passes symbol reads through. */
export const CONNECTION_STATE = Symbol("edgelock.alb.connection");

export interface ConnectionContext {
  alb: AlbConfig;
  local: LocalAlbConfig;
  trustStore: () => TrustStore;
  elb: string;
  logger: Logger;
  connectionLog: LogFile;
}

interface PeerChain {
  leaf: CertificateInfo | undefined;
  /** Certificates after the leaf, in issuer order as OpenSSL rebuilt them. */
  rest: CertificateInfo[];
  parseError: string | undefined;
}

/** Reads the peer's chain once. Node rebuilds it leaf first by issuer, so the client's wire order is not kept. */
function readPeerChain(socket: TLSSocket): PeerChain {
  const peer = socket.getPeerCertificate(true);
  if (peer === null || peer.raw === undefined) return { leaf: undefined, rest: [], parseError: undefined };

  let leaf: CertificateInfo;
  try {
    leaf = parseCertificateCached(peer.raw);
  } catch (error) {
    return { leaf: undefined, rest: [], parseError: (error as Error).message };
  }
  const rest: CertificateInfo[] = [];
  const seen = new Set([leaf.fingerprint]);
  for (let next = peer.issuerCertificate; next?.raw !== undefined; next = next.issuerCertificate) {
    try {
      const parsed = parseCertificateCached(next.raw);
      if (seen.has(parsed.fingerprint)) break;
      seen.add(parsed.fingerprint);
      rest.push(parsed);
    } catch {
      // An unparsable extra certificate cannot help build a path; the leaf alone decides.
      break;
    }
  }
  return { leaf, rest, parseError: undefined };
}

function terminate(socket: TLSSocket, mode: LocalAlbConfig["verifyFailure"]): void {
  if (mode === "alert") {
    // NOTE: Node cannot send an error alert after the handshake; end() sends close_notify, the nearest alert.
    socket.end();
    socket.destroySoon();
    return;
  }
  // Under TLS 1.2 the client has not seen the server's Finished yet, so the handshake fails from its side.
  if (socket.getProtocol() !== "TLSv1.3") {
    resetConnection(socket);
    return;
  }

  // Under TLS 1.3 the observed ALB trace shows the client's request going out before the reset. So the reset waits
  // for the first bytes of application data, or a short delay for clients that send nothing, because a reset that
  // arrives while the client is still writing makes curl report a send failure instead of "connection reset".
  let reset = false;
  const resetOnce = () => {
    if (reset) return;
    reset = true;
    clearTimeout(timer);
    resetConnection(socket);
  };
  const timer = setTimeout(resetOnce, RESET_DELAY_MS);
  socket.once("data", resetOnce);
  socket.once("error", resetOnce);
}

/** Maximum wait for the client's first request bytes before a rejected connection is reset. */
const RESET_DELAY_MS = 500;

function resetConnection(socket: TLSSocket): void {
  // TLSSocket#resetAndDestroy throws ERR_INVALID_HANDLE_TYPE; the TCP socket underneath can send the RST.
  const tcp = (socket as unknown as { _parent?: Socket })._parent;
  // Destroying the TLSSocket as well crashes Node 22 (segmentation fault); the reset closes both.
  if (tcp !== undefined && typeof tcp.resetAndDestroy === "function" && !tcp.destroyed) tcp.resetAndDestroy();
  else socket.destroy();
}

/**
 * Accepts or rejects a connection after its handshake. Returns the connection's state, or undefined after a
 * rejection, when the socket is already being reset.
 */
export function acceptConnection(socket: TLSSocket, context: ConnectionContext, handshakeSeconds: number | undefined): ConnectionState | undefined {
  const { alb, local } = context;
  const mode = alb.mutualAuthentication.mode;
  const cipher = socket.getCipher();
  const state: ConnectionState = {
    connTraceId: createConnTraceId(),
    clientIp: socket.remoteAddress ?? "-",
    clientPort: socket.remotePort ?? 0,
    listenerPort: socket.localPort ?? 0,
    tlsProtocol: socket.getProtocol() ?? "-",
    tlsCipher: cipher?.name ?? "-",
    serverName: (socket as TLSSocket & { servername?: string | false }).servername || undefined,
    connectionHeaders: [],
    inFlight: 0,
  };
  const chain: PeerChain = mode === "off" ? { leaf: undefined, rest: [], parseError: undefined } : readPeerChain(socket);

  let failure: { reason: FailureReason; detail: string } | undefined;
  if (mode === "verify") {
    if (chain.parseError !== undefined) failure = { reason: "ClientCertInvalid", detail: `client certificate cannot be parsed: ${chain.parseError}` };
    else if (chain.leaf === undefined) failure = { reason: local.noCertificateReason, detail: "client sent no certificate" };
    else {
      const result = verifyClientCertificate(chain.leaf, chain.rest, context.trustStore(), {
        maxChainDepth: local.maxChainDepth,
        requireSelfSignedAnchor: local.requireSelfSignedAnchor,
        ignoreClientCertificateExpiry: alb.mutualAuthentication.ignoreClientCertificateExpiry ?? false,
        ignoreExpiryForIntermediates: local.ignoreExpiryForIntermediates,
        checkCrlNextUpdate: local.checkCrlNextUpdate,
        now: new Date(),
      });
      if (!result.ok) failure = { reason: result.reason, detail: result.detail };
    }
  }

  const entry: ConnectionLogEntry = {
    time: new Date(),
    clientIp: state.clientIp,
    clientPort: state.clientPort,
    listenerPort: state.listenerPort,
    tlsProtocol: state.tlsProtocol,
    tlsCipher: state.tlsCipher,
    handshakeSeconds: failure === undefined ? handshakeSeconds : undefined,
    leafSubject: chain.leaf?.subject,
    leafValidity: chain.leaf === undefined ? undefined : formatValidity(chain.leaf),
    leafSerialNumber: chain.leaf?.serialNumber,
    // NOTE: AWS documents the status for verify mode only; off and passthrough connections log "-".
    verifyStatus: mode === "verify" ? verifyStatus(failure?.reason) : "-",
    connTraceId: state.connTraceId,
    keyExchange: undefined,
    elb: context.elb,
    nodeIp: socket.localAddress ?? "-",
  };
  context.connectionLog.append(formatConnectionLogLine(entry));

  if (failure !== undefined) {
    context.logger.warn(
      { reason: failure.reason, client: `${state.clientIp}:${state.clientPort}`, subject: chain.leaf?.subject, serialNumber: chain.leaf?.serialNumber, connTraceId: state.connTraceId },
      `client certificate rejected: Failed:${failure.reason}: ${failure.detail}`,
    );
    terminate(socket, local.verifyFailure);
    return undefined;
  }

  const names = alb.headerNames;
  if (mode === "verify" && chain.leaf !== undefined) state.connectionHeaders.push(...verifyModeHeaders(chain.leaf, names, local.encodePaddingInPem));
  if (mode === "passthrough" && chain.leaf !== undefined) state.connectionHeaders.push(...passthroughHeader([chain.leaf, ...chain.rest], names, local.encodePaddingInPem));
  if (alb.attributes.tlsVersionAndCipherSuiteHeaders) state.connectionHeaders.push(...tlsHeaders(state.tlsProtocol, state.tlsCipher, names));
  return state;
}

/** Writes the connection-log line of a handshake that failed before a connection existed. */
export function logFailedHandshake(context: ConnectionContext, socket: Socket, error: Error & { code?: string }): void {
  const mode = context.alb.mutualAuthentication.mode;
  context.connectionLog.append(
    formatConnectionLogLine({
      time: new Date(),
      clientIp: socket.remoteAddress ?? "-",
      clientPort: socket.remotePort ?? 0,
      listenerPort: socket.localPort ?? 0,
      tlsProtocol: undefined,
      tlsCipher: undefined,
      handshakeSeconds: undefined,
      leafSubject: undefined,
      leafValidity: undefined,
      leafSerialNumber: undefined,
      verifyStatus: mode === "verify" ? "Failed:UnmappedConnectionError" : "-",
      connTraceId: createConnTraceId(),
      keyExchange: undefined,
      elb: context.elb,
      nodeIp: socket.localAddress ?? "-",
    }),
  );
  context.logger.info({ code: error.code, client: `${socket.remoteAddress}:${socket.remotePort}` }, `TLS handshake failed: ${error.message}`);
}
