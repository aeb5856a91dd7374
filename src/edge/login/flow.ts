/**
 * The login on the team domain, `/cdn-cgi/access/login/<app host>`. Cloudflare requests an email, mails a
 * one-time PIN when a policy could allow that address (always saying it did), and on a valid PIN sets the org
 * cookie on the team domain and sends the browser to the app's `/cdn-cgi/access/authorized`. With a valid org
 * cookie the login page redirects there at once, without UI. We copy that flow with two plain HTML forms.
 */
import { randomBytes } from "node:crypto";
import { couldEmailBeAllowed, evaluatePolicies, matchApplication, type CompiledApplication } from "../../access/index.ts";
import type { RequestContext } from "../context.ts";
import { serializeCookie } from "../cookies.ts";
import { readForm } from "../forms.ts";
import { NO_STORE_HEADERS, sendRedirect, sendResponse } from "../responses.ts";
import { edgeOrigin, type EdgeRuntime } from "../runtime.ts";
import { mintOrgToken, readOrgToken } from "../tokens.ts";
import { negotiateLanguage, textsFor, type Language } from "./i18n.ts";
import { writeToOutbox } from "./outbox.ts";
import { renderEmailStep, renderMessagePage, renderPinStep } from "./pages.ts";

/** Data a pending login keeps until its PIN arrives. */
export interface LoginData {
  aud: string;
  host: string;
  redirectUrl: string;
  meta: string | undefined;
}

/** The team domain's CSRF cookie: the login forms only work with the cookie their page was served with. */
const SESSION_COOKIE = "CF_Session";
const SESSION_SECONDS = 4 * 3600;
/** Lifetime of the org cookie: Cloudflare's default global session. */
export const ORG_SESSION_SECONDS = 24 * 3600;
const MAX_EMAIL_LENGTH = 254;
const EMAIL = /^[^\s@<>()",;:\\[\]]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i;

/**
 * Reduces a redirect target to a path and query on the app host. A protocol-relative URL, an absolute URL to
 * another host or anything not starting with "/" becomes "/", so the login cannot redirect elsewhere.
 */
export function sameHostRedirect(value: string | null | undefined, host: string): string {
  if (value === null || value === undefined || value === "") return "/";
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    try {
      const url = new URL(value);
      return url.protocol === "https:" && url.hostname.toLowerCase() === host ? `${url.pathname}${url.search}` : "/";
    } catch {
      return "/";
    }
  }
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\") || /[\r\n\t]/.test(value)) return "/";
  // Browsers read "\" as "/", so "/\evil.example" must not survive as a path either.
  return value.includes("\\") ? "/" : value;
}

interface LoginTarget {
  app: CompiledApplication;
  host: string;
  redirectUrl: string;
  meta: string | undefined;
}

/**
 * Finds the application a login URL is for: by its `kid` parameter (the AUD), else the application that covers
 * the host and the redirect path. The host must be one the edge serves and the application must cover it.
 */
function resolveTarget(runtime: EdgeRuntime, context: RequestContext, host: string): LoginTarget | undefined {
  if (!runtime.appHosts.has(host)) return undefined;
  const kid = context.url.searchParams.get("kid");
  const redirectUrl = sameHostRedirect(context.url.searchParams.get("redirect_url"), host);
  const path = redirectUrl.split("?")[0] ?? "/";

  const app = kid === null ? matchApplication(runtime.applications, host, path) : runtime.applications.find((candidate) => candidate.aud === kid);
  if (app === undefined) return undefined;
  const coversHost = app.pattern.hostLabels.join(".") === host || matchApplication([app], host, path) !== undefined;
  if (!coversHost) return undefined;
  return { app, host, redirectUrl, meta: context.url.searchParams.get("meta") ?? undefined };
}

function sessionCookie(value: string, now: Date): string {
  return serializeCookie(SESSION_COOKIE, value, { expires: new Date(now.getTime() + SESSION_SECONDS * 1000), sameSite: "none" });
}

function sendPage(context: RequestContext, target: LoginTarget | undefined, status: number, html: string, cookies: string[] = []): void {
  sendResponse(
    context,
    status,
    {
      "content-type": "text/html; charset=utf-8",
      ...NO_STORE_HEADERS,
      ...(target === undefined ? {} : { "cf-access-domain": target.app.domain }),
      ...(cookies.length > 0 ? { "set-cookie": cookies } : {}),
    },
    html,
  );
}

/** Creates the grant for an allowed identity and redirects to the app host's /authorized. */
function redirectToAuthorized(runtime: EdgeRuntime, context: RequestContext, target: LoginTarget, email: string, sessionSeconds: number, cookies: string[]): void {
  const nonce = runtime.grants.create(
    { host: target.host, aud: target.app.aud, email, country: context.country, sessionSeconds, redirectUrl: target.redirectUrl, meta: target.meta },
    context.now,
  );
  context.log.info({ event: "login_authorized", application: target.app.name, email }, "identity allowed; redirecting to /cdn-cgi/access/authorized");
  sendRedirect(context, `${edgeOrigin(runtime, target.host)}/cdn-cgi/access/authorized?nonce=${encodeURIComponent(nonce)}`, cookies);
}

/** Evaluates a verified identity against the application and either authorizes it or shows the no-access page. */
function finishLogin(runtime: EdgeRuntime, context: RequestContext, target: LoginTarget, language: Language, email: string, cookies: string[]): void {
  const result = evaluatePolicies(target.app, { ip: context.clientIp, country: context.country, email }, "identity");
  if (result.decision === "allow") {
    redirectToAuthorized(runtime, context, target, email, result.policy.sessionSeconds ?? target.app.sessionSeconds, cookies);
    return;
  }
  context.log.info({ event: "login_denied", application: target.app.name, email, policy: result.policy?.name }, "identity denied by policy");
  const texts = textsFor(language);
  sendPage(context, target, 403, renderMessagePage(language, texts.signInTitle(target.app.name), texts.noAccess, context.target), cookies);
}

/** Handles GET and POST on `/cdn-cgi/access/login/<host>`. */
export async function handleLogin(runtime: EdgeRuntime, context: RequestContext, host: string): Promise<void> {
  const language = negotiateLanguage(context.request.headers["accept-language"] as string | undefined);
  const texts = textsFor(language);
  const target = resolveTarget(runtime, context, host.toLowerCase());
  if (target === undefined) {
    sendPage(context, undefined, 404, renderMessagePage(language, texts.forbiddenTitle, texts.unknownApplication(host)));
    return;
  }

  const session = context.cookies.get(SESSION_COOKIE);
  const cookies = session === undefined ? [sessionCookie(randomBytes(16).toString("hex"), context.now)] : [];

  if (context.request.method === "GET" || context.request.method === "HEAD") {
    const org = await readOrgToken(runtime, context.cookies.get("CF_Authorization"), context.now);
    if (org !== undefined) {
      finishLogin(runtime, context, target, language, org.email, cookies);
      return;
    }
    sendPage(context, target, 200, renderEmailStep({ language, application: target.app.name, action: context.target }), cookies);
    return;
  }
  if (context.request.method !== "POST") {
    sendResponse(context, 405, { allow: "GET, HEAD, POST" }, "Method Not Allowed\n");
    return;
  }

  const form = await readForm(context.request);
  if (session === undefined) {
    sendPage(context, target, 200, renderEmailStep({ language, application: target.app.name, action: context.target, error: texts.sessionExpired }), cookies);
    return;
  }
  if (form.get("step") === "pin") {
    await submitPin(runtime, context, target, language, session, form);
    return;
  }
  submitEmail(runtime, context, target, language, session, form);
}

function submitEmail(runtime: EdgeRuntime, context: RequestContext, target: LoginTarget, language: Language, session: string, form: URLSearchParams): void {
  const texts = textsFor(language);
  const email = (form.get("email") ?? "").trim();
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    sendPage(context, target, 200, renderEmailStep({ language, application: target.app.name, action: context.target, email, error: texts.invalidEmail }));
    return;
  }

  const allowed = couldEmailBeAllowed(target.app, email, { ip: context.clientIp, country: context.country });
  const data: LoginData = { aud: target.app.aud, host: target.host, redirectUrl: target.redirectUrl, meta: target.meta };
  const { id, pin } = runtime.pins.start(email, session, data, allowed, context.now);
  if (pin === undefined) {
    context.log.info({ event: "pin_not_sent", application: target.app.name, email }, "one-time PIN not sent: no Allow policy matches this address");
  } else {
    const minutes = Math.round(runtime.local.otp.ttlSeconds / 60);
    const emlPath = writeToOutbox(runtime.stateDir, {
      from: `edgelock Access <noreply@${runtime.teamHost}>`,
      to: email,
      subject: texts.mailSubject(target.app.name),
      body: texts.mailBody(pin, target.app.name, minutes),
      date: context.now,
      messageIdDomain: runtime.teamHost,
    });
    context.log.info({ event: "pin_sent", application: target.app.name, email, emlPath }, "one-time PIN written to the outbox");
    runtime.onPinSent(email, pin, emlPath);
  }

  sendPage(context, target, 200, renderPinStep({ language, application: target.app.name, action: context.target, email, flow: id, pinLength: runtime.local.otp.length, ttlMinutes: Math.round(runtime.local.otp.ttlSeconds / 60) }));
}

async function submitPin(runtime: EdgeRuntime, context: RequestContext, target: LoginTarget, language: Language, session: string, form: URLSearchParams): Promise<void> {
  const texts = textsFor(language);
  const flow = form.get("flow") ?? "";
  const check = runtime.pins.check(flow, session, form.get("pin") ?? "", context.now);
  if (check.result === "unknown") {
    sendPage(context, target, 200, renderEmailStep({ language, application: target.app.name, action: context.target, error: texts.sessionExpired }));
    return;
  }

  const { login } = check;
  if (check.result !== "ok") {
    context.log.info({ event: "pin_rejected", reason: `pin_${check.result}`, application: target.app.name, email: login.email, attempts: login.attempts }, "one-time PIN rejected");
    const pinPage = renderPinStep({ language, application: target.app.name, action: context.target, email: login.email, flow, pinLength: runtime.local.otp.length, ttlMinutes: Math.round(runtime.local.otp.ttlSeconds / 60), error: texts.noAccess });
    const page = check.result === "wrong" ? pinPage : renderMessagePage(language, texts.signInTitle(target.app.name), texts.noAccess, context.target);
    sendPage(context, target, 200, page);
    return;
  }

  const org = await mintOrgToken(runtime, { email: login.email, country: context.country, now: context.now });
  const orgCookie = serializeCookie("CF_Authorization", org.token, { expires: org.expiresAt, sameSite: "none" });
  context.log.info({ event: "login_succeeded", application: target.app.name, email: login.email }, "one-time PIN accepted");
  finishLogin(runtime, context, { ...target, redirectUrl: login.data.redirectUrl, meta: login.data.meta }, language, login.email, [orgCookie]);
}
