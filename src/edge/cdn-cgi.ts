/**
 * Edge-owned `/cdn-cgi/access/*` paths, which never reach the origin. On the app host Cloudflare serves
 * `/authorized` (the login callback that sets the app cookie), `/logout` and `/get-identity`. On the team domain
 * it serves `/login/<host>`, `/certs` (the JWKS), `/logout` and `/get-identity`. We serve the same paths.
 * Logout ends the user's session on every application, as Cloudflare's does; Cloudflare takes 20-30 s, we act at once.
 */
import { matchApplication } from "../access/index.ts";
import type { RequestContext } from "./context.ts";
import { expiredCookie, serializeCookie } from "./cookies.ts";
import { handleLogin } from "./login/flow.ts";
import { NO_STORE_HEADERS, escapeHtml, sendJson, sendRedirect, sendResponse } from "./responses.ts";
import type { EdgeRuntime } from "./runtime.ts";
import { checkMetaToken, logOut, mintAppToken, readAppToken, readOrgToken, type VerifiedAppToken } from "./tokens.ts";

const ACCESS_PREFIX = "/cdn-cgi/access/";

/** Tells whether a path belongs to the edge rather than the origin. */
export function isEdgePath(pathname: string): boolean {
  return pathname.startsWith(ACCESS_PREFIX) || pathname === "/cdn-cgi/access";
}

function notFound(context: RequestContext): void {
  sendResponse(context, 404, { ...NO_STORE_HEADERS }, "Not Found\n");
}

function logoutPage(host: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Logged out</title></head><body><h1>Logged out</h1><p>You are logged out of ${escapeHtml(host)}.</p></body></html>\n`;
}

/** Builds the identity JSON of /get-identity, with the fields Cloudflare documents. */
function identityOf(context: RequestContext, token: VerifiedAppToken): Record<string, unknown> {
  const service = token.kind === "service";
  return {
    email: service ? "" : token.email,
    idp: service ? { id: "", type: "" } : { id: "onetimepin", type: "onetimepin" },
    geo: { country: context.country },
    user_uuid: service ? "" : token.sub,
    account_id: "",
    iat: token.iat,
    ip: context.clientIp,
    auth_status: "NONE",
    common_name: service ? token.clientId : "",
    service_token_id: service ? token.clientId : "",
    service_token_status: service,
    is_warp: false,
    is_gateway: false,
    gateway_account_id: "",
    device_id: "",
    version: 2,
    device_sessions: {},
    devicePosture: {},
  };
}

/** Serves /cdn-cgi/access/* on an app host. */
export async function handleAppHostEdgePath(runtime: EdgeRuntime, context: RequestContext): Promise<void> {
  const endpoint = context.url.pathname.slice(ACCESS_PREFIX.length);
  if (endpoint === "authorized") {
    await authorize(runtime, context);
    return;
  }
  if (endpoint === "logout") {
    const token = await readHostToken(runtime, context);
    if (token.ok && token.token.kind === "identity") logOut(runtime, token.token.email, context.now);
    sendResponse(context, 200, { "content-type": "text/html; charset=utf-8", ...NO_STORE_HEADERS, "set-cookie": [expiredCookie("CF_Authorization", "none")] }, logoutPage(context.host));
    return;
  }
  if (endpoint === "get-identity") {
    const token = await readHostToken(runtime, context);
    if (!token.ok) {
      sendJson(context, 401, { err: "no valid session" });
      return;
    }
    sendJson(context, 200, identityOf(context, token.token));
    return;
  }
  notFound(context);
}

/** Serves /cdn-cgi/access/* on the team domain. */
export async function handleTeamHostEdgePath(runtime: EdgeRuntime, context: RequestContext): Promise<void> {
  const endpoint = context.url.pathname.slice(ACCESS_PREFIX.length);
  if (endpoint.startsWith("login/")) {
    await handleLogin(runtime, context, decodeURIComponent(endpoint.slice("login/".length)));
    return;
  }
  if (endpoint === "certs") {
    sendJson(context, 200, runtime.signingKeys.jwks());
    return;
  }
  if (endpoint === "logout") {
    const org = await readOrgToken(runtime, context.cookies.get("CF_Authorization"), context.now);
    if (org !== undefined) logOut(runtime, org.email, context.now);
    const cookies = [expiredCookie("CF_Authorization", "none"), expiredCookie("CF_Session", "none")];
    sendResponse(context, 200, { "content-type": "text/html; charset=utf-8", ...NO_STORE_HEADERS, "set-cookie": cookies }, logoutPage(context.host));
    return;
  }
  if (endpoint === "get-identity") {
    const org = await readOrgToken(runtime, context.cookies.get("CF_Authorization"), context.now);
    if (org === undefined) {
      sendJson(context, 401, { err: "no valid session" });
      return;
    }
    sendJson(context, 200, identityOf(context, { kind: "identity", email: org.email, sub: org.sub, iat: org.iat, exp: org.exp, token: "" }));
    return;
  }
  notFound(context);
}

/** Verifies the request's app token against each application on this host, for /get-identity. */
async function readHostToken(runtime: EdgeRuntime, context: RequestContext): Promise<Awaited<ReturnType<typeof readAppToken>>> {
  const raw = context.cookies.get("CF_Authorization") ?? headerValue(context, "cf-access-token");
  let result: Awaited<ReturnType<typeof readAppToken>> = { ok: false, code: "ERR_TOKEN_MISSING" };
  for (const app of runtime.applications) {
    if (matchApplication([app], context.host, app.pattern.path ?? "/") === undefined && app.pattern.hostLabels.join(".") !== context.host) continue;
    result = await readAppToken(runtime, raw, app.aud, context.now);
    if (result.ok) return result;
  }
  return result;
}

function headerValue(context: RequestContext, name: string): string | undefined {
  const value = context.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The login callback: redeems the nonce, checks the CF_AppSession binding, sets the app cookie, and redirects. */
async function authorize(runtime: EdgeRuntime, context: RequestContext): Promise<void> {
  const nonce = context.url.searchParams.get("nonce") ?? "";
  const grant = runtime.grants.redeem(nonce, context.now);
  if (grant === undefined || grant.host !== context.host) {
    context.log.info({ event: "authorize_rejected", reason: "unknown_nonce" }, "login callback with an unknown, used or expired nonce");
    sendResponse(context, 400, { ...NO_STORE_HEADERS }, "This login link is invalid or was already used. Open the application again to log in.\n");
    return;
  }

  if (grant.meta !== undefined) {
    const bound = await checkMetaToken(runtime, grant.meta, context.cookies.get("CF_AppSession"), context.now);
    if (!bound.ok) {
      context.log.info({ event: "authorize_rejected", reason: bound.code }, "login callback without the CF_AppSession cookie of its redirect");
      sendResponse(context, 400, { ...NO_STORE_HEADERS }, "This login did not start in this browser session. Open the application again to log in.\n");
      return;
    }
  }

  const app = runtime.applications.find((candidate) => candidate.aud === grant.aud);
  if (app === undefined) {
    sendResponse(context, 400, { ...NO_STORE_HEADERS }, "The application of this login no longer exists.\n");
    return;
  }
  const minted = await mintAppToken(runtime, { aud: grant.aud, email: grant.email, country: grant.country, sessionSeconds: grant.sessionSeconds, now: context.now });
  const cookie = serializeCookie("CF_Authorization", minted.token, { expires: minted.expiresAt, httpOnly: app.cookie.httpOnly, sameSite: app.cookie.sameSite });
  context.log.info({ event: "app_token_issued", application: app.name, email: grant.email }, "app token set on the app host");
  sendRedirect(context, grant.redirectUrl, [cookie]);
}
