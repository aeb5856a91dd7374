/**
 * Reading the echo function's responses: the 200 JSON `{ message, event }` with the ALB event it received, and the
 * 401 JSON `{ error: "access_token_invalid", reason }` it returns when it requires an Access token. The event's
 * header names are lowercase, in `headers` or `multiValueHeaders` depending on the target group's mode.
 */
import { X509Certificate } from "node:crypto";

/** The part of an ALB event the checks read. */
export interface EchoEvent {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

/** Names of the mTLS headers the origin check reads; the listener may rename them. */
export interface MtlsHeaderNames {
  /** Verify mode: the leaf's serial number. */
  serialNumber: string;
  /** Verify mode: the leaf as URL-encoded PEM. */
  leaf: string;
  /** Passthrough mode: the whole chain as URL-encoded PEM. */
  clientCert: string;
}

export const DEFAULT_MTLS_HEADER_NAMES: MtlsHeaderNames = {
  serialNumber: "X-Amzn-Mtls-Clientcert-Serial-Number",
  leaf: "X-Amzn-Mtls-Clientcert-Leaf",
  clientCert: "X-Amzn-Mtls-Clientcert",
};

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // Any body that is not JSON is simply not the echo's.
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Returns the forwarded event when `body` is the echo's 200 JSON, else undefined. */
export function readEchoEvent(body: string): EchoEvent | undefined {
  const parsed = parseJson(body);
  if (!isRecord(parsed) || typeof parsed.message !== "string" || !isRecord(parsed.event)) return undefined;
  const { headers, multiValueHeaders } = parsed.event;
  if (!isRecord(headers) && !isRecord(multiValueHeaders)) return undefined;
  return parsed.event as EchoEvent;
}

/**
 * Returns the reason of a 401 from edgelock's token check, else undefined: the echo function's
 * `access_token_invalid` or the middleware's `access_token_missing` / `access_token_invalid` JSON.
 */
export function readAccessTokenRejection(body: string): string | undefined {
  const parsed = parseJson(body);
  if (!isRecord(parsed) || (parsed.error !== "access_token_invalid" && parsed.error !== "access_token_missing")) return undefined;
  return typeof parsed.reason === "string" ? parsed.reason : "no reason given";
}

/** Returns the first value of a forwarded header, by case-insensitive name. */
export function echoHeader(event: EchoEvent, name: string): string | undefined {
  const lower = name.toLowerCase();
  const single = event.headers?.[lower];
  if (typeof single === "string") return single;
  const multiple = event.multiValueHeaders?.[lower];
  return Array.isArray(multiple) && typeof multiple[0] === "string" ? multiple[0] : undefined;
}

/** Returns a serial number as the ALB writes it: uppercase hex with an even number of digits. */
export function albSerialNumber(certificate: X509Certificate): string {
  const upper = certificate.serialNumber.toUpperCase();
  return upper.length % 2 === 1 ? `0${upper}` : upper;
}

/**
 * Compares the verify-mode headers of a forwarded event with the client certificate sent: the serial-number
 * header must equal its serial, and the leaf header (URL-encoded PEM) must decode to the same certificate.
 * Returns undefined when both match, else the problem in one sentence.
 */
export function compareMtlsHeaders(event: EchoEvent, certificatePem: string, names: MtlsHeaderNames): string | undefined {
  const sent = new X509Certificate(certificatePem);
  const serial = echoHeader(event, names.serialNumber);
  if (serial === undefined && echoHeader(event, names.clientCert) !== undefined) {
    return `the target received ${names.clientCert} and no ${names.serialNumber}, so mTLS is in passthrough and the listener did not verify the certificate`;
  }
  if (serial === undefined) return `the target received no ${names.serialNumber} header, so mTLS is off and the listener did not ask for the certificate`;
  if (serial !== albSerialNumber(sent)) {
    return `${names.serialNumber} is "${serial}" but the certificate's serial is ${albSerialNumber(sent)}`;
  }

  const leaf = echoHeader(event, names.leaf);
  if (leaf === undefined) return `the target received no ${names.leaf} header`;
  let forwarded: X509Certificate;
  try {
    forwarded = new X509Certificate(decodeURIComponent(leaf));
  } catch (error) {
    return `${names.leaf} does not decode to a PEM certificate (${(error as Error).message})`;
  }
  if (!forwarded.raw.equals(sent.raw)) {
    return `${names.leaf} decodes to another certificate (serial ${albSerialNumber(forwarded)}, subject ${forwarded.subject.replaceAll("\n", ", ")})`;
  }
  return undefined;
}
