/**
 * Checks 4 and 5: the Access gate on the app host. Cloudflare Access responds to a request without a token with
 * a 302 to `https://<team domain>/cdn-cgi/access/login/<app host>?kid=<AUD>&…` and `WWW-Authenticate:
 * Cloudflare-Access`, or with 401/403 when no policy could ever pass or only Service Auth policies exist. The
 * team domain serves its signing keys at /cdn-cgi/access/certs. A valid service token is let through with an
 * app token in Cf-Access-Jwt-Assertion, which origins verify against those keys.
 */
import type { IncomingHttpHeaders } from "node:http";
import { AccessTokenError, createAccessVerifier } from "../access/index.ts";
import { describeConnectionProblem, outcomeDetails, type CheckContext, type Verdict } from "./context.ts";
import { echoHeader, readAccessTokenRejection, readEchoEvent } from "./echo.ts";

const AUD = /^[0-9a-f]{64}$/;

/** Cloudflare's own 52x statuses, returned by the edge when the origin fails it. */
const EDGE_ORIGIN_ERRORS: Record<number, string> = {
  520: "the origin returned an empty or unknown response",
  521: "the origin refused the connection",
  522: "the connection to the origin timed out",
  523: "the origin is unreachable",
  524: "the origin took too long to respond",
  525: "the TLS handshake with the origin failed (is the origin-pull certificate rejected or revoked?)",
  526: "the origin's server certificate is invalid",
};

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True when a 401/403 comes from Access rather than from the origin: Access adds its own headers to it. */
function isAccessDenial(headers: IncomingHttpHeaders): boolean {
  return firstHeader(headers, "cf-access-aud") !== undefined || (firstHeader(headers, "www-authenticate") ?? "").startsWith("Cloudflare-Access");
}

/** Check 4: an anonymous request is sent to Access's login, and the team domain serves RS256 signing keys. */
export async function checkAppRequiresAccess(context: CheckContext, signal: AbortSignal): Promise<Verdict> {
  const { appUrl } = context;
  const outcome = await context.connector.probe({ url: appUrl, signal });
  const details = outcomeDetails(outcome);
  if (outcome.kind !== "response") {
    const reason = outcome.kind === "no-response" ? `the app host ended the connection without an HTTP response (${outcome.detail})` : describeConnectionProblem(outcome, appUrl);
    return { status: "fail", reason: `${reason}.`, details };
  }

  const { status, headers, body } = outcome;
  if ((status === 401 || status === 403) && isAccessDenial(headers)) {
    const aud = firstHeader(headers, "cf-access-aud");
    if (aud !== undefined && AUD.test(aud)) context.shared.aud = aud;
    return {
      status: "warn",
      reason: `Access returned HTTP ${status} instead of a login redirect: no policy can pass for this client, or the application accepts only service tokens. The JWKS was not checked, because a ${status} names no team domain.`,
      details: { ...details, aud: aud ?? null },
    };
  }
  if (status !== 302) {
    const echoRejection = readAccessTokenRejection(body);
    const origin = echoRejection === undefined ? "" : " The request reached the origin: the function rejected it for lack of an Access token.";
    return { status: "fail", reason: `the app host returned HTTP ${status} to an anonymous request, without Access: no Access application covers ${appUrl.host}${appUrl.pathname}.${origin}`, details };
  }

  const location = firstHeader(headers, "location") ?? "";
  let login: URL;
  try {
    login = new URL(location, appUrl);
  } catch {
    return { status: "fail", reason: `the app host redirected to "${location}", which is not a URL.`, details };
  }
  const loginPath = `/cdn-cgi/access/login/${appUrl.hostname}`;
  if (login.protocol !== "https:" || login.pathname !== loginPath) {
    return { status: "fail", reason: `the app host redirected to ${login.origin}${login.pathname}, not to an Access login page (https://<team domain>${loginPath}).`, details };
  }

  const warnings: string[] = [];
  if (!(firstHeader(headers, "www-authenticate") ?? "").startsWith("Cloudflare-Access")) warnings.push("the redirect has no \"WWW-Authenticate: Cloudflare-Access\" header");
  const aud = login.searchParams.get("kid") ?? "";
  if (AUD.test(aud)) context.shared.aud = aud;
  else warnings.push(`the login URL's kid parameter is not an AUD tag of 64 hex characters (got "${aud}")`);

  const teamUrl = new URL(`https://${login.host}`);
  context.shared.teamDomain = login.host;
  context.connector.allow(teamUrl);
  const jwks = await fetchJwks(context, teamUrl, signal);
  const facts = { ...details, teamDomain: login.host, aud: AUD.test(aud) ? aud : null, ...jwks.details };
  if (jwks.problem !== undefined) return { status: "fail", reason: `the app host redirects to Access's login, but ${jwks.problem}.`, details: facts };

  const summary = `HTTP 302 to ${login.host}${loginPath}; the team domain serves ${jwks.keyCount} RS256 key${jwks.keyCount === 1 ? "" : "s"} at /cdn-cgi/access/certs`;
  if (warnings.length > 0) return { status: "warn", reason: `${summary}, but ${warnings.join(", and ")}.`, details: facts };
  return { status: "pass", reason: `${summary}.`, details: facts };
}

type JwksResult = { problem?: string; keyCount: number; details: Record<string, string | number | string[]> };

/** Fetches the team domain's JWKS and keeps its body for check 5; a problem is one clause for the check's reason. */
async function fetchJwks(context: CheckContext, teamUrl: URL, signal: AbortSignal): Promise<JwksResult> {
  const url = new URL("/cdn-cgi/access/certs", teamUrl);
  const outcome = await context.connector.probe({ url, headers: { accept: "application/json" }, signal });
  if (outcome.kind === "no-response") return { problem: `${url.href} ended the connection without an HTTP response`, keyCount: 0, details: {} };
  if (outcome.kind !== "response") return { problem: describeConnectionProblem(outcome, url), keyCount: 0, details: {} };
  if (outcome.status !== 200) return { problem: `${url.href} returned HTTP ${outcome.status}`, keyCount: 0, details: { jwksStatus: outcome.status } };

  let keys: unknown;
  try {
    keys = (JSON.parse(outcome.body) as { keys?: unknown }).keys;
  } catch {
    return { problem: `${url.href} did not return JSON`, keyCount: 0, details: {} };
  }
  if (!Array.isArray(keys) || keys.length === 0) return { problem: `${url.href} lists no keys`, keyCount: 0, details: {} };

  const usable = (keys as Record<string, unknown>[]).filter((key) => key.kty === "RSA" && key.alg === "RS256" && typeof key.kid === "string");
  const kids = usable.map((key) => key.kid as string);
  if (usable.length === 0) return { problem: `none of the ${keys.length} keys at ${url.href} is an RSA key for RS256`, keyCount: 0, details: {} };

  context.shared.jwksBody = outcome.body;
  return { keyCount: usable.length, details: { jwksKeyIds: kids } };
}

/** Returns the CF_Authorization cookie's value from Set-Cookie headers. */
function authorizationCookie(headers: IncomingHttpHeaders): string | undefined {
  for (const cookie of headers["set-cookie"] ?? []) {
    const match = /^CF_Authorization=([^;]+)/.exec(cookie);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

/**
 * Check 5: with CF-Access-Client-Id and -Secret the request reaches the origin, and the app token the target
 * received verifies against the JWKS from check 4 with the application's AUD. Skipped without a service token.
 */
export async function checkServiceToken(context: CheckContext, signal: AbortSignal): Promise<Verdict> {
  const { serviceToken, appUrl } = context;
  if (serviceToken === undefined) {
    return { status: "skip", reason: "no service token given (--service-token-id and --service-token-secret, or EDGELOCK_SERVICE_TOKEN_ID and _SECRET).", details: {} };
  }

  const headers = { "cf-access-client-id": serviceToken.clientId, "cf-access-client-secret": serviceToken.clientSecret };
  const outcome = await context.connector.probe({ url: appUrl, headers, signal });
  const details = { ...outcomeDetails(outcome), clientId: serviceToken.clientId };
  if (outcome.kind !== "response") {
    const reason = outcome.kind === "no-response" ? `the app host ended the connection without an HTTP response (${outcome.detail})` : describeConnectionProblem(outcome, appUrl);
    return { status: "fail", reason: `${reason}.`, details };
  }

  const { status, body } = outcome;
  const rejected = rejectionReason(status, outcome.headers, body);
  if (rejected !== undefined) return { status: "fail", reason: rejected, details };

  const event = readEchoEvent(body);
  const token = event === undefined ? authorizationCookie(outcome.headers) : echoHeader(event, "cf-access-jwt-assertion");
  if (token === undefined) {
    const where = event === undefined ? "the target is not the echo function and no CF_Authorization cookie was set" : "the echo shows no Cf-Access-Jwt-Assertion header";
    return { status: "fail", reason: `HTTP ${status} from the target, but ${where}.`, details };
  }
  context.shared.appToken = token;

  const { teamDomain, aud, jwksBody } = context.shared;
  // An application with only Service Auth policies returns 403 to check 4, which then learns no team domain.
  // The token reached the target, so this is a warning, not a failure.
  if (teamDomain === undefined || aud === undefined || jwksBody === undefined) {
    return { status: "warn", reason: `HTTP ${status} from the target with an app token, but the token was not verified: check 4 found no team domain JWKS or no application AUD.`, details };
  }
  const verifier = createAccessVerifier({
    teamDomain,
    audience: aud,
    fetch: async () => ({ status: 200, text: async () => jwksBody }),
    now: context.now,
  });
  try {
    const identity = await verifier.verify(token);
    const identityName = identity.kind === "service" ? `service token ${identity.commonName}` : `user ${identity.email}`;
    const source = event === undefined ? "the CF_Authorization cookie (the target is not the echo function)" : "the Cf-Access-Jwt-Assertion the target received";
    const verdict = event === undefined ? "warn" : "pass";
    return { status: verdict, reason: `HTTP ${status} from the target; ${source} is a valid app token for ${identityName}, with aud ${aud}.`, details: { ...details, identity: identity.kind, aud } };
  } catch (error) {
    if (!(error instanceof AccessTokenError)) throw error;
    return { status: "fail", reason: `HTTP ${status} from the target, but its app token did not verify: ${error.message} (${error.code}).`, details: { ...details, tokenError: error.code } };
  }
}

/** Returns why a service-token request did not reach the target, or undefined for a 2xx. */
function rejectionReason(status: number, headers: IncomingHttpHeaders, body: string): string | undefined {
  if (status === 302) {
    return "Access did not accept the service token: it redirected to the login page. Check the Client ID and Secret, and that a Service Auth (non_identity) policy includes the token.";
  }
  if ((status === 401 || status === 403) && isAccessDenial(headers)) return `Access rejected the service token with HTTP ${status}; check the Client ID and Secret and the application's Service Auth policy.`;

  const echoRejection = status === 401 ? readAccessTokenRejection(body) : undefined;
  if (echoRejection !== undefined) return `the request reached the origin, but the function rejected the app token: ${echoRejection}.`;

  const edgeError = EDGE_ORIGIN_ERRORS[status];
  if (edgeError !== undefined) return `Access accepted the service token, but the edge returned HTTP ${status}: ${edgeError}.`;
  if (status < 200 || status > 299) return `the app host returned HTTP ${status} to the service-token request; expected a 2xx from the target.`;
  return undefined;
}
