/**
 * Request and response headers on the origin pull (developers.cloudflare.com/fundamentals/reference/http-headers/).
 * Cloudflare adds CF-Connecting-IP, CF-Ray, CF-Visitor, CDN-Loop, CF-IPCountry, X-Forwarded-For (appended) and
 * X-Forwarded-Proto, plus the Access headers when Access let the request through. It drops X-Real-IP and the
 * CF_Binding cookie, and removes X-Accel-* from responses. We also drop every client-sent copy of a
 * header the edge sets, so a client cannot spoof one.
 * NOTE: Accept-Encoding and Connection are passed as sent; Cloudflare rewrites them to "br, gzip" and "Keep-Alive".
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { removeCookie } from "../cookies.ts";

/** Headers that describe one connection (RFC 9110 §7.6.1) or exist only in HTTP/2; never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "http2-settings", "host"]);

/** Client-sent headers the edge sets itself; removed before its own values are added. */
const EDGE_SET = new Set(["cf-connecting-ip", "cf-ray", "cf-visitor", "cdn-loop", "cf-ipcountry", "x-real-ip", "x-forwarded-proto"]);

/** Response headers Cloudflare removes. */
const STRIPPED_RESPONSE = new Set(["x-accel-buffering", "x-accel-charset", "x-accel-limit-rate", "x-accel-redirect"]);

/** Access headers for one origin request, from the gate's decision. */
export interface AccessHeaders {
  /** The app JWT for Cf-Access-Jwt-Assertion; undefined on Bypass or with no application. */
  assertion?: string;
  /** The identity's email for Cf-Access-Authenticated-User-Email; undefined for service tokens. */
  email?: string;
  /** Keeps client-sent Cf-Access-Jwt-Assertion and Cf-Access-Authenticated-User-Email (Bypass negative tests). */
  passClientAccessHeaders?: boolean;
}

export interface ForwardedFor {
  clientIp: string;
  rayId: string;
  country: string;
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  const list = Array.isArray(value) ? value.join(",") : (value ?? "");
  return new Set(list.split(",").map((token) => token.trim().toLowerCase()).filter((token) => token !== ""));
}

/** Tells whether a client-sent header must not reach the origin. */
function isDropped(name: string, named: Set<string>, access: AccessHeaders): boolean {
  if (name.startsWith(":") || HOP_BY_HOP.has(name) || named.has(name) || EDGE_SET.has(name)) return true;
  if (!/^[a-z0-9_-]+$/.test(name)) return true;
  if (name.startsWith("cf-access-")) {
    const passable = name === "cf-access-jwt-assertion" || name === "cf-access-authenticated-user-email";
    return !(access.passClientAccessHeaders === true && passable);
  }
  return false;
}

/** Builds the headers of the request to the origin from the client's, with the edge's own added. */
export function buildOriginRequestHeaders(incoming: IncomingHttpHeaders, forwarded: ForwardedFor, access: AccessHeaders): Record<string, string | string[]> {
  const named = connectionTokens(incoming);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || isDropped(name, named, access)) continue;
    headers[name] = value;
  }

  const cookie = removeCookie(incoming.cookie, "CF_Binding");
  if (cookie === undefined) delete headers.cookie;
  else headers.cookie = cookie;

  const previous = incoming["x-forwarded-for"];
  const chain = (Array.isArray(previous) ? previous.join(",") : (previous ?? "")).split(",").map((part) => part.trim()).filter((part) => part !== "");
  headers["x-forwarded-for"] = [...chain, forwarded.clientIp].join(",");
  headers["x-forwarded-proto"] = "https";
  headers["cf-connecting-ip"] = forwarded.clientIp;
  headers["cf-ipcountry"] = forwarded.country;
  headers["cf-ray"] = forwarded.rayId;
  headers["cf-visitor"] = JSON.stringify({ scheme: "https" });
  headers["cdn-loop"] = "cloudflare";
  if (access.assertion !== undefined) headers["cf-access-jwt-assertion"] = access.assertion;
  if (access.email !== undefined) headers["cf-access-authenticated-user-email"] = access.email;
  return headers;
}

/** Filters the origin's response headers for the client: hop-by-hop and X-Accel-* removed. */
export function filterOriginResponseHeaders(incoming: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = new Set<string>();
  const connection = incoming.connection;
  for (const token of (Array.isArray(connection) ? connection.join(",") : (connection ?? "")).split(",")) named.add(token.trim().toLowerCase());

  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || named.has(lower) || STRIPPED_RESPONSE.has(lower)) continue;
    headers[lower] = value;
  }
  return headers;
}
