/**
 * The edge's use of the Access token library: minting app, service, org and meta tokens with the current
 * signing key, and verifying the tokens browsers send back. All JWT work happens in src/access; this file only
 * picks the team domain, lifetimes and claims the edge needs.
 */
import {
  AccessTokenError,
  issueAppToken,
  issueMetaToken,
  issueOrgToken,
  issueServiceAppToken,
  orgTokenAudience,
  verifyEdgeToken,
  verifyMetaToken,
  type ServiceTokenStore,
  type SigningKeyStore,
} from "../access/index.ts";
import { ORG_SESSION_SECONDS } from "./login/flow.ts";
import { teamDomain, type EdgeRuntime } from "./runtime.ts";

export type EdgeSigningKeys = SigningKeyStore;
export type EdgeServiceTokens = ServiceTokenStore;

/** A minted token and the instant it expires, for the cookie's Expires. */
export interface MintedToken {
  token: string;
  expiresAt: Date;
}

/** An app token the edge accepted: from an identity login or from a service token. */
export type VerifiedAppToken =
  | { kind: "identity"; token: string; email: string; sub: string; iat: number; exp: number }
  | { kind: "service"; token: string; clientId: string; iat: number; exp: number };

export type TokenCheck = { ok: true; token: VerifiedAppToken } | { ok: false; code: string };

function expiry(now: Date, seconds: number): Date {
  return new Date((Math.floor(now.getTime() / 1000) + seconds) * 1000);
}

/** Mints the app token of an identity login. */
export async function mintAppToken(runtime: EdgeRuntime, input: { aud: string; email: string; country: string; sessionSeconds: number; now: Date }): Promise<MintedToken> {
  const token = await issueAppToken(runtime.signingKeys, { ...input, teamDomain: teamDomain(runtime) });
  return { token, expiresAt: expiry(input.now, input.sessionSeconds) };
}

/** Mints the app token of a service-token login. */
export async function mintServiceAppToken(runtime: EdgeRuntime, input: { aud: string; clientId: string; sessionSeconds: number; now: Date }): Promise<MintedToken> {
  const token = await issueServiceAppToken(runtime.signingKeys, { ...input, teamDomain: teamDomain(runtime) });
  return { token, expiresAt: expiry(input.now, input.sessionSeconds) };
}

/** Mints the org token of the team domain's global session. */
export async function mintOrgToken(runtime: EdgeRuntime, input: { email: string; country: string; now: Date }): Promise<MintedToken> {
  const token = await issueOrgToken(runtime.signingKeys, { ...input, sessionSeconds: ORG_SESSION_SECONDS, teamDomain: teamDomain(runtime) });
  return { token, expiresAt: expiry(input.now, ORG_SESSION_SECONDS) };
}

/** Mints the `meta` token of a login redirect, bound to the CF_AppSession value set on the same redirect. */
export async function mintMetaToken(runtime: EdgeRuntime, input: { aud: string; hostname: string; redirectUrl: string; appSession: string; now: Date }): Promise<string> {
  return issueMetaToken(runtime.signingKeys, input);
}

/** Verifies an app token for one application. On failure `code` is the AccessTokenError code, such as ERR_TOKEN_EXPIRED. */
export async function readAppToken(runtime: EdgeRuntime, token: string | undefined, aud: string, now: Date): Promise<TokenCheck> {
  if (token === undefined || token === "") return { ok: false, code: "ERR_TOKEN_MISSING" };
  try {
    const claims = (await verifyEdgeToken(runtime.signingKeys, token, { aud, teamDomain: teamDomain(runtime), type: "app", now })) as unknown as Record<string, unknown>;
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (typeof claims.email === "string" && claims.email !== "") {
      if (isLoggedOut(runtime, claims.email, iat)) return { ok: false, code: "ERR_TOKEN_REVOKED" };
      return { ok: true, token: { kind: "identity", token, email: claims.email, sub: String(claims.sub ?? ""), iat, exp } };
    }
    if (typeof claims.common_name === "string" && claims.common_name !== "") {
      return { ok: true, token: { kind: "service", token, clientId: claims.common_name, iat, exp } };
    }
    return { ok: false, code: "ERR_TOKEN_MALFORMED" };
  } catch (error) {
    return { ok: false, code: codeOf(error) };
  }
}

/**
 * Ends every session of `email`: Cloudflare's logout revokes the session for all applications, so app and org
 * tokens issued before now stop working at the edge. Origins still accept the JWT until it expires, as they do
 * with Cloudflare. The list lives in memory and is lost on restart.
 */
export function logOut(runtime: EdgeRuntime, email: string, now: Date): void {
  runtime.loggedOut.set(email.toLowerCase(), now.getTime());
}

function isLoggedOut(runtime: EdgeRuntime, email: string, issuedAtSeconds: number): boolean {
  const at = runtime.loggedOut.get(email.toLowerCase());
  return at !== undefined && issuedAtSeconds * 1000 < at;
}

/** Verifies the team domain's org cookie; returns its identity, or undefined when absent or invalid. */
export async function readOrgToken(runtime: EdgeRuntime, token: string | undefined, now: Date): Promise<{ email: string; sub: string; iat: number; exp: number } | undefined> {
  if (token === undefined || token === "") return undefined;
  try {
    const domain = teamDomain(runtime);
    const claims = (await verifyEdgeToken(runtime.signingKeys, token, { aud: orgTokenAudience(domain), teamDomain: domain, type: "org", now })) as unknown as Record<string, unknown>;
    if (claims.type !== "org" || typeof claims.email !== "string") return undefined;
    if (isLoggedOut(runtime, claims.email, Number(claims.iat))) return undefined;
    return { email: claims.email, sub: String(claims.sub ?? ""), iat: Number(claims.iat), exp: Number(claims.exp) };
  } catch (error) {
    if (error instanceof AccessTokenError) return undefined;
    throw error;
  }
}

/** Checks that a meta token is valid and bound to the request's CF_AppSession cookie. */
export async function checkMetaToken(runtime: EdgeRuntime, meta: string, appSession: string | undefined, now: Date): Promise<{ ok: true } | { ok: false; code: string }> {
  if (appSession === undefined) return { ok: false, code: "ERR_TOKEN_SESSION" };
  try {
    await verifyMetaToken(runtime.signingKeys, meta, { appSession, now });
    return { ok: true };
  } catch (error) {
    return { ok: false, code: codeOf(error) };
  }
}

/** Returns the code of a rejected token; anything other than an AccessTokenError is a bug and is rethrown. */
function codeOf(error: unknown): string {
  if (error instanceof AccessTokenError) return error.code;
  throw error;
}
