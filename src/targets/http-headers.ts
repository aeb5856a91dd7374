/**
 * Header handling between the listener and an HTTP upstream. Hop-by-hop headers (RFC 9110, section 7.6.1) apply to
 * one connection only, so they are removed in both directions; Content-Length is recomputed from the buffered body.
 * The Host header follows the routing.http.preserve_host_header.enabled attribute.
 */
import type { HeaderList } from "./index.ts";

/** Connection-specific request and response headers, plus those the buffered body makes meaningless. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length"]);

/**
 * Returns the request headers for the upstream. Besides the hop-by-hop set, Expect is dropped because the body is
 * already buffered.
 * NOTE: names a client lists in its own Connection header are kept. The listener adds its X-Amzn-* and
 * X-Forwarded-* headers before this step, so honouring that list here would let a client remove them.
 */
export function upstreamRequestHeaders(headers: HeaderList, host: string | undefined): HeaderList {
  const kept: HeaderList = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === "expect" || lower === "host") continue;
    kept.push([name, value]);
  }
  if (host !== undefined) kept.unshift(["host", host]);
  return kept;
}

/**
 * Returns the upstream's response headers without hop-by-hop headers and without the names its Connection header
 * lists. For HEAD, Content-Length stays: it declares the length of a body that is not sent.
 */
export function clientResponseHeaders(headers: HeaderList, method = "GET"): HeaderList {
  const listed = new Set<string>();
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== "connection") continue;
    for (const token of value.split(",")) listed.add(token.trim().toLowerCase());
  }
  const keepLength = method === "HEAD";
  return headers.filter(([name]) => {
    const lower = name.toLowerCase();
    if (keepLength && lower === "content-length") return true;
    return !HOP_BY_HOP.has(lower) && !listed.has(lower);
  });
}

/** Returns the port of a Host value ("host:port", "[::1]:port"), or undefined when it has none. */
function portOf(host: string): string | undefined {
  const afterName = host.startsWith("[") ? host.slice(host.indexOf("]") + 1) : host;
  const colon = afterName.lastIndexOf(":");
  return colon === -1 ? undefined : afterName.slice(colon + 1);
}

/**
 * Returns the Host value the target receives. With preserve_host_header enabled the client's value passes
 * unchanged. Without it, AWS's launch announcement of that attribute states that the ALB appends the listener port, as
 * in "www.amazon.com" → "www.amazon.com:8443".
 * NOTE: whether the ALB also appends ":443" on the default HTTPS port is not documented; we append only other ports.
 */
export function targetHostHeader(clientHost: string | undefined, listenerPort: number, preserveHostHeader: boolean): string | undefined {
  if (clientHost === undefined || preserveHostHeader) return clientHost;
  if (portOf(clientHost) !== undefined || listenerPort === 443) return clientHost;
  return `${clientHost}:${listenerPort}`;
}

/** Returns the last value of a header, compared case-insensitively. */
export function lastHeaderValue(headers: HeaderList, name: string): string | undefined {
  let found: string | undefined;
  for (const [candidate, value] of headers) if (candidate.toLowerCase() === name) found = value;
  return found;
}

/** Turns undici's raw response headers (name, value, name, value … as Buffers) into a header list. */
export function headerListFromRaw(raw: readonly (Buffer | string)[]): HeaderList {
  const list: HeaderList = [];
  for (let index = 0; index + 1 < raw.length; index += 2) list.push([String(raw[index]), String(raw[index + 1])]);
  return list;
}
