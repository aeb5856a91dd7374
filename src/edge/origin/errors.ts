/**
 * Maps a failed origin pull to the status Cloudflare returns to the visitor, as listed on
 * developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/. The codes are 521
 * refused, 522 connect timeout, 523 unreachable, 524 no response in time, 525 TLS handshake failed, 526 invalid
 * origin certificate (Full strict), 520 empty or malformed response, and 502 for anything else.
 * An ALB rejects a client certificate after a TLS 1.3 handshake with a TCP reset, so a reset before any response
 * byte counts as a failed handshake (525).
 */
import { escapeHtml } from "../responses.ts";

/** Stage of a failed pull: connecting (TCP and TLS handshake), or waiting for the response after that. */
export type OriginPhase = "connect" | "response";

export interface OriginFailure {
  status: 502 | 520 | 521 | 522 | 523 | 524 | 525 | 526;
  /** Stable reason code for logs, such as "origin_refused". */
  reason: string;
  /** The error code of the underlying failure, such as "ECONNRESET". */
  errorCode: string;
}

/** OpenSSL and Node codes that mean the origin's certificate failed validation. */
const CERTIFICATE_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED)/;

/** Returns the first error code found on an error or along its `cause` chain. */
export function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    // undici's HTTPParserError has no code when the response is not HTTP at all.
    if (current.name === "HTTPParserError") return "HPE_INVALID_RESPONSE";
    current = (current as { cause?: unknown }).cause;
  }
  return "UNKNOWN";
}

/** Facts the pool recorded about the TLS connection a request failed on. */
export interface ConnectionEvidence {
  /** True when the origin sent a TLS 1.3 session ticket, which servers do only after accepting the client's certificate. */
  sessionTicketReceived: boolean;
  /** Negotiated protocol, such as "TLSv1.3". */
  protocol: string | undefined;
}

/**
 * Classifies an origin failure by the phase it happened in, its error code and, for a connection closed without
 * a response, whether the origin had accepted the TLS 1.3 handshake.
 */
export function classifyOriginFailure(error: unknown, phase: OriginPhase, evidence?: ConnectionEvidence): OriginFailure {
  const code = errorCode(error);
  const failure = (status: OriginFailure["status"], reason: string): OriginFailure => ({ status, reason, errorCode: code });

  if (code === "ECONNREFUSED") return failure(521, "origin_refused");
  if (code === "UND_ERR_CONNECT_TIMEOUT" || (phase === "connect" && code === "ETIMEDOUT")) return failure(522, "origin_connect_timeout");
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return failure(523, "origin_unreachable");
  if (code === "UND_ERR_HEADERS_TIMEOUT") return failure(524, "origin_response_timeout");
  if (CERTIFICATE_CODES.test(code)) return failure(526, "origin_certificate_invalid");
  if (code.startsWith("ERR_SSL_") || code === "EPROTO") return failure(525, "origin_tls_failed");
  if (code === "ECONNRESET" || code === "EPIPE") return failure(525, phase === "connect" ? "origin_reset_during_handshake" : "origin_reset_before_response");
  if (phase === "connect") return failure(525, "origin_tls_failed");
  if (code === "UND_ERR_SOCKET") {
    // In TLS 1.3 the client finishes its handshake before the server checks the client certificate, so a server
    // that rejects it (OpenSSL without an alert) just closes. Such a server never sends the session tickets that
    // accepted clients get, and that absence separates it from an origin that accepted and then closed.
    // NOTE: an origin that has session tickets turned off and closes without a response is reported as 525 too.
    if (evidence?.protocol === "TLSv1.3" && !evidence.sessionTicketReceived) return failure(525, "origin_closed_after_handshake");
    return failure(520, "origin_closed_without_response");
  }
  if (code.startsWith("HPE_") || code === "UND_ERR_HEADERS_OVERFLOW" || code === "UND_ERR_INFO") return failure(520, "origin_invalid_response");
  return failure(502, "origin_failed");
}

const TITLES: Record<OriginFailure["status"], string> = {
  502: "Bad gateway",
  520: "Web server is returning an unknown error",
  521: "Web server is down",
  522: "Connection timed out",
  523: "Origin is unreachable",
  524: "A timeout occurred",
  525: "SSL handshake failed",
  526: "Invalid SSL certificate",
};

/** Renders the error page for a failed pull; it names the status, the host and the Ray ID, never the cause. */
export function renderOriginErrorPage(status: OriginFailure["status"], host: string, rayId: string): string {
  const title = `${TITLES[status]} | ${host}`;
  return [
    "<!DOCTYPE html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`,
    "<body style=\"font-family:system-ui,sans-serif;margin:3rem auto;max-width:40rem\">",
    `<h1>Error ${status}: ${escapeHtml(TITLES[status])}</h1>`,
    `<p>The edge could not get a response from the origin of <strong>${escapeHtml(host)}</strong>.</p>`,
    `<p><small>Ray ID: <code>${escapeHtml(rayId)}</code> (edgelock local edge)</small></p>`,
    "</body></html>",
    "",
  ].join("\n");
}
