/**
 * The Access gate on the app host, in the order Cloudflare Access applies it (developers.cloudflare.com/
 * cloudflare-one/access-controls/). Bypass and Service Auth policies come first. Then a valid app token passes if
 * its identity still passes the policies with the current IP and country. Otherwise the edge returns 403 when no
 * policy could pass, 401 for an expired XHR session, or a 302 to the team domain's login with CF_AppSession.
 */
import { randomBytes } from "node:crypto";
import type { OutgoingHttpHeaders } from "node:http";
import { evaluatePolicies, matchApplication, type CompiledApplication } from "../access/index.ts";
import { handleAppHostEdgePath, isEdgePath } from "./cdn-cgi.ts";
import type { RequestContext } from "./context.ts";
import { serializeCookie } from "./cookies.ts";
import { negotiateLanguage } from "./login/i18n.ts";
import { renderForbiddenPage } from "./login/pages.ts";
import { proxyToOrigin } from "./proxy.ts";
import { NO_STORE_HEADERS, sendRedirect, sendResponse } from "./responses.ts";
import { edgeOrigin, type EdgeRuntime } from "./runtime.ts";
import { mintMetaToken, mintServiceAppToken, readAppToken, type VerifiedAppToken } from "./tokens.ts";

/** Lifetime of CF_AppSession, as observed on real redirects. */
const APP_SESSION_SECONDS = 24 * 3600;

function header(context: RequestContext, name: string): string | undefined {
  const value = context.request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Headers cloudflared reads from an edge 401/403: the application's domain and AUD. */
function accessHeaders(app: CompiledApplication): OutgoingHttpHeaders {
  return { "cf-access-aud": app.aud, "cf-access-domain": app.domain };
}

function forbid(context: RequestContext, app: CompiledApplication, status: number, reason: string): void {
  context.log.info({ event: "access_denied", application: app.name, status, reason }, "request denied at the edge");
  const language = negotiateLanguage(header(context, "accept-language"));
  sendResponse(context, status, { "content-type": "text/html; charset=utf-8", ...NO_STORE_HEADERS, ...accessHeaders(app) }, renderForbiddenPage(language, context.host));
}

/** Verifies the Client ID and Secret headers; returns the token's name and Client ID, or undefined. */
async function serviceTokenOf(runtime: EdgeRuntime, context: RequestContext): Promise<{ name: string; clientId: string } | undefined> {
  const clientId = header(context, "cf-access-client-id");
  const secret = header(context, "cf-access-client-secret");
  if (clientId === undefined || secret === undefined) return undefined;
  const verified = runtime.serviceTokens.verify(clientId, secret, context.now);
  if (verified === undefined) {
    context.log.info({ event: "service_token_rejected", clientId }, "service token headers did not verify");
    return undefined;
  }
  return { name: verified.name, clientId };
}

/** Sends the unauthenticated 302 to the team domain's login page. */
async function redirectToLogin(runtime: EdgeRuntime, context: RequestContext, app: CompiledApplication): Promise<void> {
  const appSession = `n${randomBytes(8).toString("hex")}`;
  const meta = await mintMetaToken(runtime, { aud: app.aud, hostname: context.host, redirectUrl: context.target, appSession, now: context.now });
  const query = `kid=${app.aud}&redirect_url=${encodeURIComponent(context.target)}&meta=${meta}`;
  const location = `${edgeOrigin(runtime, runtime.teamHost)}/cdn-cgi/access/login/${context.host}?${query}`;
  const cookie = serializeCookie("CF_AppSession", appSession, { expires: new Date(context.now.getTime() + APP_SESSION_SECONDS * 1000) });
  sendRedirect(context, location, [cookie], {
    "www-authenticate": "Cloudflare-Access",
    "access-control-allow-credentials": "true",
    "content-type": "text/html",
  });
}

/** Checks a valid app token against the application's current policies; returns the headers to proxy with, or undefined. */
function admitToken(runtime: EdgeRuntime, context: RequestContext, app: CompiledApplication, token: VerifiedAppToken): { assertion: string; email?: string } | undefined {
  const base = { ip: context.clientIp, country: context.country };
  if (token.kind === "identity") {
    const result = evaluatePolicies(app, { ...base, email: token.email }, "identity");
    return result.decision === "allow" ? { assertion: token.token, email: token.email } : undefined;
  }

  // A service-token JWT opens the app again only while a Service Auth policy still accepts that token and the
  // app has an Allow policy. Service-auth-only apps need the Client ID and Secret on every request.
  if (app.serviceAuthOnly) return undefined;
  const name = runtime.serviceTokens.list(context.now).find((entry) => entry.clientId === token.clientId && !entry.expired)?.name;
  if (name === undefined) return undefined;
  return evaluatePolicies(app, { ...base, serviceToken: { name } }, "request").decision === "service" ? { assertion: token.token } : undefined;
}

/** Handles one request on an app host. */
export async function handleAppRequest(runtime: EdgeRuntime, context: RequestContext): Promise<void> {
  if (isEdgePath(context.url.pathname)) {
    await handleAppHostEdgePath(runtime, context);
    return;
  }

  const app = matchApplication(runtime.applications, context.host, context.url.pathname);
  if (app === undefined) {
    await proxyToOrigin(runtime, context, {});
    return;
  }
  if (context.request.method === "OPTIONS" && header(context, "access-control-request-method") !== undefined) {
    forbid(context, app, 403, "preflight");
    return;
  }

  const serviceToken = await serviceTokenOf(runtime, context);
  const base = { ip: context.clientIp, country: context.country };
  const first = evaluatePolicies(app, serviceToken === undefined ? base : { ...base, serviceToken: { name: serviceToken.name } }, "request");
  if (first.decision === "bypass") {
    context.log.debug({ event: "access_bypass", application: app.name, policy: first.policy.name }, "bypass policy matched");
    await proxyToOrigin(runtime, context, { passClientAccessHeaders: !runtime.local.stripClientAccessHeadersOnBypass });
    return;
  }
  if (first.decision === "service" && serviceToken !== undefined) {
    const minted = await mintServiceAppToken(runtime, { aud: app.aud, clientId: serviceToken.clientId, sessionSeconds: app.sessionSeconds, now: context.now });
    const cookie = serializeCookie("CF_Authorization", minted.token, { expires: minted.expiresAt, httpOnly: app.cookie.httpOnly, sameSite: app.cookie.sameSite });
    context.log.info({ event: "service_token_allowed", application: app.name, policy: first.policy.name, serviceToken: serviceToken.name }, "service token accepted");
    await proxyToOrigin(runtime, context, { assertion: minted.token }, [cookie]);
    return;
  }

  const presented = context.cookies.get("CF_Authorization") ?? header(context, "cf-access-token");
  const verified = await readAppToken(runtime, presented, app.aud, context.now);
  if (verified.ok) {
    const admitted = admitToken(runtime, context, app, verified.token);
    if (admitted === undefined) {
      forbid(context, app, 403, "token_denied_by_policy");
      return;
    }
    await proxyToOrigin(runtime, context, admitted);
    return;
  }

  if (first.decision === "forbidden") {
    if (!app.serviceAuthOnly) {
      forbid(context, app, runtime.local.forbiddenStatus, "no_policy_can_pass");
      return;
    }
    forbid(context, app, app.serviceAuth401Redirect ? 401 : 403, "service_token_required");
    return;
  }
  if (verified.code === "ERR_TOKEN_EXPIRED" && header(context, "x-requested-with")?.toLowerCase() === "xmlhttprequest") {
    context.log.info({ event: "access_denied", application: app.name, status: 401, reason: "session_expired_xhr" }, "expired session on an XHR request");
    sendResponse(context, 401, { ...NO_STORE_HEADERS, ...accessHeaders(app) }, "Unauthorized\n");
    return;
  }
  await redirectToLogin(runtime, context, app);
}
