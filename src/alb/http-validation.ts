/**
 * Request checks an ALB applies before routing. The desync classes and reasons are those of AWS's HTTP Desync
 * Guardian (aws/http-desync-guardian, docs/README.md), which the ALB's desync_mitigation_mode uses; TRACE gets
 * 405 and an unknown Transfer-Encoding 501 (ALB troubleshooting guide). Node's HTTP/1.1 parser rejects several
 * Severe and Ambiguous requests before our code receives them; `classifyParserError` maps those rejections.
 */

export type DesyncClass = "Compliant" | "Acceptable" | "Ambiguous" | "Severe";
export type DesyncMode = "monitor" | "defensive" | "strictest";

/** A classification with the access log's classification_reason (undefined for Compliant). */
export interface Classification {
  classification: DesyncClass;
  reason: string | undefined;
}

/** The listener's action for a classified request: route it, route it then close the connection, or respond 400. */
export type DesyncAction = "allow" | "allow-and-close" | "block";

const RANK: Record<DesyncClass, number> = { Compliant: 0, Acceptable: 1, Ambiguous: 2, Severe: 3 };
const VALID_HEADER_NAME = /^[-A-Za-z0-9]+$/;
const COMPLIANT: Classification = { classification: "Compliant", reason: undefined };

/** Returns the action for a class under a mitigation mode, as in the ALB's desync mitigation table. */
export function desyncAction(mode: DesyncMode, classification: DesyncClass): DesyncAction {
  if (mode === "monitor" || classification === "Compliant") return "allow";
  if (mode === "strictest") return "block";
  if (classification === "Acceptable") return "allow";
  return classification === "Ambiguous" ? "allow-and-close" : "block";
}

/** Removes headers whose names do not match ^[-A-Za-z0-9]+$ (routing.http.drop_invalid_header_fields.enabled). */
export function dropInvalidHeaderFields(headers: [string, string][]): [string, string][] {
  return headers.filter(([name]) => VALID_HEADER_NAME.test(name));
}

function worse(current: Classification, next: Classification): Classification {
  return RANK[next.classification] > RANK[current.classification] ? next : current;
}

/** Returns true for a name that normalizes to Transfer-Encoding or Content-Length (case, "_" or spaces) without being one. */
function isSuspiciousName(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower === "transfer-encoding" || lower === "content-length") return false;
  const normalized = lower.replace(/[\s_.]/g, "-").replace(/[^a-z-]/g, "");
  return normalized === "transfer-encoding" || normalized === "content-length";
}

/** Classifies a request that Node's parser accepted, from its method and raw header list. */
export function classifyRequest(method: string, headers: readonly [string, string][]): Classification {
  let result = COMPLIANT;
  const lengths = headers.filter(([name]) => name.toLowerCase() === "content-length").map(([, value]) => value.trim());
  const encodings = headers.filter(([name]) => name.toLowerCase() === "transfer-encoding").map(([, value]) => value);
  const bodyless = method === "GET" || method === "HEAD";

  for (const [name, value] of headers) {
    if (value.trim() === "") result = worse(result, { classification: "Ambiguous", reason: "EmptyHeader" });
    if (isSuspiciousName(name)) result = worse(result, { classification: "Ambiguous", reason: "SuspiciousHeader" });
    // Node keeps obs-text (bytes 0x80-0xFF) and tabs in values; the guardian calls such headers non-compliant.
    if (/[^\t\x20-\x7e]/.test(value)) result = worse(result, { classification: "Acceptable", reason: "NonCompliantHeader" });
  }

  if (lengths.length > 1) {
    const same = lengths.every((value) => value === lengths[0]);
    result = worse(result, same ? { classification: "Ambiguous", reason: "DuplicateContentLength" } : { classification: "Severe", reason: "MultipleContentLength" });
  }
  if (lengths.length > 0 && encodings.length > 0) result = worse(result, { classification: "Ambiguous", reason: "BothTeClPresent" });
  if (bodyless && encodings.length > 0) result = worse(result, { classification: "Ambiguous", reason: "UndefinedTransferEncodingSemantics" });
  if (bodyless && lengths.length === 1) {
    result = worse(
      result,
      lengths[0] === "0" ? { classification: "Acceptable", reason: "GetHeadZeroContentLength" } : { classification: "Ambiguous", reason: "UndefinedContentLengthSemantics" },
    );
  }
  return result;
}

/** Returns true when a Transfer-Encoding lists a coding other than chunked or identity, which the ALB rejects with 501. */
export function hasUnsupportedTransferEncoding(headers: readonly [string, string][]): boolean {
  return headers.some(
    ([name, value]) =>
      name.toLowerCase() === "transfer-encoding" &&
      value.split(",").some((coding) => !["chunked", "identity"].includes(coding.trim().toLowerCase())),
  );
}

/** A Node HTTP parser error (`clientError`), with the raw bytes it stopped at when Node kept them. */
export interface ParserError {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
}

/** The response status and classification for a request Node's parser rejected. */
export interface ParserRejection extends Classification {
  status: 400 | 431 | 501;
}

function duplicateLengthReason(rawPacket: Buffer | undefined): Classification {
  const head = rawPacket?.toString("latin1").split("\r\n\r\n")[0] ?? "";
  const values = [...head.matchAll(/^content-length:[ \t]*([^\r\n]*?)[ \t]*$/gim)].map((match) => match[1]);
  return values.length > 1 && values.every((value) => value === values[0])
    ? { classification: "Ambiguous", reason: "DuplicateContentLength" }
    : { classification: "Severe", reason: "MultipleContentLength" };
}

/**
 * Maps a Node parser rejection to the ALB's response. Node rejects these before routing, so even the classes the
 * ALB would route in monitor or defensive mode (BothTeClPresent, DuplicateContentLength) get a 400 here.
 */
export function classifyParserError(error: ParserError): ParserRejection {
  const reason = error.reason ?? "";
  switch (error.code) {
    case "HPE_INVALID_TRANSFER_ENCODING":
      if (reason.includes("Content-Length")) return { status: 400, classification: "Ambiguous", reason: "BothTeClPresent" };
      if (reason.includes("header value")) return { status: 400, classification: "Severe", reason: "MultipleTransferEncodingChunked" };
      return { status: 501, classification: "Severe", reason: "BadTransferEncoding" };
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return { status: 400, ...duplicateLengthReason(error.rawPacket) };
    case "HPE_INVALID_CONTENT_LENGTH":
      return { status: 400, classification: "Severe", reason: "BadContentLength" };
    case "HPE_INVALID_HEADER_TOKEN":
    case "HPE_LF_EXPECTED":
    case "HPE_CR_EXPECTED":
      return { status: 400, classification: "Severe", reason: "BadHeader" };
    case "HPE_INVALID_VERSION":
      return { status: 400, classification: "Severe", reason: "BadVersion" };
    case "HPE_INVALID_METHOD":
      return { status: 400, classification: "Severe", reason: "BadMethod" };
    case "HPE_HEADER_OVERFLOW":
      // NOTE: the ALB's status for oversized headers is not documented (400 or 431); we keep Node's 431.
      return { status: 431, classification: "Compliant", reason: undefined };
    default:
      return { status: 400, classification: "Severe", reason: "BadUri" };
  }
}
