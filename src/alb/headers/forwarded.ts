/**
 * The forwarding headers an ALB sets (Elastic Load Balancing guide, "HTTP headers and Application Load
 * Balancers" and "Request tracing"): X-Forwarded-For by xff_header_processing.mode, X-Forwarded-Proto and
 * X-Forwarded-Port always overwritten, and X-Amzn-Trace-Id with a Root the ALB creates unless the client sent one.
 */
import { randomBytes } from "node:crypto";
import { isIPv6 } from "node:net";
import type { HeaderList } from "./mtls-headers.ts";

export type XffMode = "append" | "preserve" | "remove";

/** More X-Forwarded-For addresses than this get HTTP 463 from the ALB. */
export const MAX_FORWARDED_ADDRESSES = 30;

const TRACE_ROOT = /(?:^|;)\s*Root=1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}\s*(?:;|$)/;

export interface ForwardingInput {
  clientAddress: string;
  clientPort: number;
  listenerPort: number;
  xffMode: XffMode;
  /** With append, writes ip:port ([ip]:port for IPv6). */
  xffClientPort: boolean;
  now?: Date;
}

/** The request headers after forwarding, and the trace id for the access log. */
export interface ForwardingResult {
  headers: HeaderList;
  traceId: string;
  /** Number of X-Forwarded-For addresses after processing, to enforce the 463 limit. */
  forwardedAddresses: number;
}

/** Creates a trace id: `Root=1-<epoch seconds as 8 hex digits>-<24 random hex digits>`. */
export function createTraceId(now: Date = new Date()): string {
  const seconds = Math.floor(now.getTime() / 1000).toString(16).padStart(8, "0");
  return `Root=1-${seconds}-${randomBytes(12).toString("hex")}`;
}

function clientEntry(input: ForwardingInput): string {
  const address = input.clientAddress.startsWith("::ffff:") ? input.clientAddress.slice(7) : input.clientAddress;
  if (!input.xffClientPort) return address;
  return isIPv6(address) ? `[${address}]:${input.clientPort}` : `${address}:${input.clientPort}`;
}

/** Applies X-Forwarded-For/-Proto/-Port and X-Amzn-Trace-Id to a header list. */
export function applyForwardingHeaders(headers: HeaderList, input: ForwardingInput): ForwardingResult {
  const kept: HeaderList = [];
  const forwardedFor: string[] = [];
  let clientTrace: string | undefined;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (lower === "x-forwarded-for") forwardedFor.push(value);
    else if (lower === "x-amzn-trace-id") clientTrace = value;
    else if (lower !== "x-forwarded-proto" && lower !== "x-forwarded-port") kept.push([name, value]);
  }

  let forwarded: string | undefined;
  if (input.xffMode === "append") forwarded = [...forwardedFor, clientEntry(input)].join(", ");
  else if (input.xffMode === "preserve" && forwardedFor.length > 0) forwarded = forwardedFor.join(", ");
  const forwardedAddresses = forwarded === undefined ? 0 : forwarded.split(",").filter((entry) => entry.trim() !== "").length;

  const traceId = clientTrace !== undefined && TRACE_ROOT.test(clientTrace) ? clientTrace : createTraceId(input.now);
  if (forwarded !== undefined) kept.push(["X-Forwarded-For", forwarded]);
  kept.push(["X-Forwarded-Proto", "https"], ["X-Forwarded-Port", String(input.listenerPort)], ["X-Amzn-Trace-Id", traceId]);
  return { headers: kept, traceId, forwardedAddresses };
}
