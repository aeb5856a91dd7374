/**
 * Forwards a request the gate let through to the origin and streams the response back. When the pull fails it
 * returns the Cloudflare error status of the failure (521, 522, 525, 526, 520, …) and logs the cause.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import type { RequestContext } from "./context.ts";
import { renderOriginErrorPage } from "./origin/errors.ts";
import { buildOriginRequestHeaders, filterOriginResponseHeaders, type AccessHeaders } from "./origin/headers.ts";
import { messageOf } from "../shared/errors.ts";
import { sendResponse } from "./responses.ts";
import type { EdgeRuntime } from "./runtime.ts";

/** Largest response body with a Content-Length that is read whole before it is sent on. */
const BUFFERED_BODY_BYTES = 64 * 1024;

/** Methods whose requests are sent without a body. */
const BODYLESS = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"]);

function hasBody(context: RequestContext): boolean {
  const method = context.request.method ?? "GET";
  if (!BODYLESS.has(method)) return true;
  return context.request.headers["content-length"] !== undefined && context.request.headers["content-length"] !== "0";
}

/** Proxies one request; `setCookies` are added to the origin's Set-Cookie headers (a minted service-token cookie). */
export async function proxyToOrigin(runtime: EdgeRuntime, context: RequestContext, access: AccessHeaders, setCookies: string[] = []): Promise<void> {
  const headers = buildOriginRequestHeaders(context.request.headers, { clientIp: context.clientIp, rayId: context.rayId, country: context.country }, access);
  const authority = context.request.headers[":authority"] ?? context.request.headers.host;
  if (typeof authority === "string") headers.host = authority;

  const result = await runtime.origin.forward({
    method: context.request.method ?? "GET",
    path: context.target,
    headers,
    ...(hasBody(context) ? { body: context.request } : {}),
  });

  if (!result.ok) {
    const { failure } = result;
    context.log.warn(
      { event: "origin_failed", status: failure.status, reason: failure.reason, errorCode: failure.errorCode, error: messageOf(result.error) },
      `origin pull failed: ${failure.reason}`,
    );
    sendResponse(context, failure.status, { "content-type": "text/html; charset=utf-8", "cache-control": "private, no-store" }, renderOriginErrorPage(failure.status, context.host, context.rayId));
    return;
  }

  const { response } = result;
  const outgoing: OutgoingHttpHeaders = filterOriginResponseHeaders(response.headers);
  if (setCookies.length > 0) {
    const existing = outgoing["set-cookie"];
    outgoing["set-cookie"] = [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)]), ...setCookies];
  }
  outgoing.server = "cloudflare";
  outgoing["cf-ray"] = context.rayId;

  const client = context.response as unknown as Writable & { writeHead(status: number, headers: OutgoingHttpHeaders): void };
  const length = Number(outgoing["content-length"] ?? Number.NaN);
  if (Number.isInteger(length) && length <= BUFFERED_BODY_BYTES) {
    // A small body of known length goes out with the head in one write instead of through a stream pipeline.
    let body: Buffer;
    try {
      body = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      context.log.warn({ event: "origin_body_failed", error: messageOf(error) }, "response body from the origin broke off; the client connection is closed");
      context.response.destroy();
      return;
    }
    client.writeHead(response.statusCode, outgoing);
    client.end(body);
    return;
  }

  client.writeHead(response.statusCode, outgoing);
  try {
    await pipeline(response.body, client);
  } catch (error) {
    context.log.warn({ event: "origin_body_failed", error: messageOf(error) }, "response body from the origin broke off; the client connection is closed");
    context.response.destroy();
  }
}
