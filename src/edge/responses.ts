/**
 * Responses the edge writes itself. Cloudflare marks every response with `server: cloudflare` and the request's
 * `cf-ray`; Access pages and redirects also carry the no-store cache headers observed on real 302s.
 */
import type { OutgoingHttpHeaders } from "node:http";
import type { RequestContext } from "./context.ts";

/** Cache headers Cloudflare Access puts on its redirects and pages. */
export const NO_STORE_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0",
  expires: "Thu, 01 Jan 1970 00:00:01 GMT",
};

/** Writes a complete response with `server` and `cf-ray` added; HEAD requests get the headers only. */
export function sendResponse(context: RequestContext, status: number, headers: OutgoingHttpHeaders, body: string | Buffer = ""): void {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const all: OutgoingHttpHeaders = {
    ...headers,
    "content-length": payload.length,
    server: "cloudflare",
    "cf-ray": context.rayId,
  };
  if (payload.length > 0 && all["content-type"] === undefined) all["content-type"] = "text/plain; charset=utf-8";

  const response = context.response as import("node:http").ServerResponse;
  response.writeHead(status, all);
  response.end(context.request.method === "HEAD" ? undefined : payload);
}

/** Writes a 302 to `location` with the no-store headers and any cookies. */
export function sendRedirect(context: RequestContext, location: string, cookies: string[] = [], extra: OutgoingHttpHeaders = {}): void {
  const headers: OutgoingHttpHeaders = { location, ...NO_STORE_HEADERS, ...extra };
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  sendResponse(context, 302, headers);
}

/** Writes a JSON body with the no-store headers. */
export function sendJson(context: RequestContext, status: number, value: unknown, extra: OutgoingHttpHeaders = {}): void {
  sendResponse(context, status, { "content-type": "application/json", ...NO_STORE_HEADERS, ...extra }, JSON.stringify(value));
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
