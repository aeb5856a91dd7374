/**
 * Token issuance with jose. Cloudflare Access signs RS256 JWTs whose header is only {"alg":"RS256","kid":…} and
 * whose claims come in a fixed order; each payload here is built as one object literal in that order, so the
 * encoded bytes follow it too.
 */
import { createHash } from "node:crypto";
import { SignJWT, type JWTPayload } from "jose";
import { AccessError } from "../errors.ts";
import { issuerFor, normalizeTeamDomain } from "../team-domain.ts";
import { identityNonce, subjectForEmail } from "./identity.ts";
import type { AppTokenClaims, MetaTokenClaims, OrgTokenClaims, ServiceAppTokenClaims, SigningKeyStore } from "./types.ts";

/** Anything that can name the current signing key: a SigningKeyStore. */
export type TokenSigner = Pick<SigningKeyStore, "current">;

const AUD = /^[0-9a-f]{64}$/;
const COUNTRY = /^[A-Z][A-Z0-9]$/;

export interface AppTokenInput {
  /** Application AUD, 64 lowercase hex characters. */
  aud: string;
  /** Verified email address. */
  email: string;
  /** Team domain host, such as "acme.cloudflareaccess.com" or "team.localhost:8443". */
  teamDomain: string;
  /** Token lifetime in seconds: the session duration of the application or of the allowing policy. */
  sessionSeconds: number;
  /** Country the user logged in from, ISO 3166-1 alpha-2 ("XX" unknown, "T1" Tor). */
  country: string;
  /** User id. Default: `subjectForEmail(email, teamDomain)`. */
  sub?: string;
  /** Issue time. Default: now. */
  now?: Date;
}

export interface ServiceAppTokenInput {
  aud: string;
  /** Client ID of the service token, written to `common_name`. */
  clientId: string;
  teamDomain: string;
  sessionSeconds: number;
  now?: Date;
}

export interface OrgTokenInput {
  email: string;
  teamDomain: string;
  /** Global session duration in seconds. */
  sessionSeconds: number;
  country: string;
  sub?: string;
  now?: Date;
}

export interface MetaTokenInput {
  /** Application AUD. */
  aud: string;
  /** App host the login is for. */
  hostname: string;
  /** Path and query to return to after login. */
  redirectUrl: string;
  /** Value of the CF_AppSession cookie set on the same redirect; only its SHA-256 enters the token. */
  appSession: string;
  /** Lifetime in seconds. Default 86400, the lifetime of CF_AppSession. */
  ttlSeconds?: number;
  now?: Date;
}

/** Returns the audience edgelock writes into org tokens: the team domain host (Cloudflare's value is not documented). */
export function orgTokenAudience(teamDomain: string): string {
  return normalizeTeamDomain(teamDomain);
}

/** Returns SHA-256 of a CF_AppSession value as 64 lowercase hex, the `app_session_hash` of a meta token. */
export function appSessionHash(appSession: string): string {
  return createHash("sha256").update(appSession, "utf8").digest("hex");
}

/** Issues the app token of an identity login: the CF_Authorization cookie and Cf-Access-Jwt-Assertion value. */
export async function issueAppToken(keys: TokenSigner, input: AppTokenInput): Promise<string> {
  checkAud(input.aud);
  checkEmail(input.email);
  checkCountry(input.country);
  const iat = issuedAt(input.now);
  const claims: AppTokenClaims = {
    aud: [input.aud],
    email: input.email,
    exp: iat + checkSeconds(input.sessionSeconds, "sessionSeconds"),
    iat,
    nbf: iat,
    iss: issuerFor(input.teamDomain),
    type: "app",
    identity_nonce: identityNonce(),
    sub: input.sub ?? subjectForEmail(input.email, input.teamDomain),
    country: input.country,
  };
  return sign(keys, claims);
}

/** Issues the app token of a service-token login; it has `common_name` = Client ID, an empty `sub` and no email. */
export async function issueServiceAppToken(keys: TokenSigner, input: ServiceAppTokenInput): Promise<string> {
  checkAud(input.aud);
  if (input.clientId === "") throw new AccessError("ERR_ACCESS_INVALID_INPUT", "clientId must not be empty");
  const iat = issuedAt(input.now);
  const claims: ServiceAppTokenClaims = {
    type: "app",
    aud: [input.aud],
    exp: iat + checkSeconds(input.sessionSeconds, "sessionSeconds"),
    iss: issuerFor(input.teamDomain),
    common_name: input.clientId,
    iat,
    sub: "",
  };
  return sign(keys, claims);
}

/** Issues the global session token for the team domain's CF_Authorization cookie (`type: "org"`). */
export async function issueOrgToken(keys: TokenSigner, input: OrgTokenInput): Promise<string> {
  checkEmail(input.email);
  checkCountry(input.country);
  const iat = issuedAt(input.now);
  const claims: OrgTokenClaims = {
    aud: [orgTokenAudience(input.teamDomain)],
    email: input.email,
    exp: iat + checkSeconds(input.sessionSeconds, "sessionSeconds"),
    iat,
    nbf: iat,
    iss: issuerFor(input.teamDomain),
    type: "org",
    identity_nonce: identityNonce(),
    sub: input.sub ?? subjectForEmail(input.email, input.teamDomain),
    country: input.country,
  };
  return sign(keys, claims);
}

/**
 * Issues the `meta` token of the login redirect. Its header carries `typ: "JWT"` and it has no `iss`, as observed
 * on Cloudflare's; it binds the flow to the CF_AppSession cookie through `app_session_hash`.
 */
export async function issueMetaToken(keys: TokenSigner, input: MetaTokenInput): Promise<string> {
  checkAud(input.aud);
  const iat = issuedAt(input.now);
  const claims: MetaTokenClaims = {
    type: "meta",
    aud: input.aud,
    hostname: input.hostname,
    redirect_url: input.redirectUrl,
    app_session_hash: appSessionHash(input.appSession),
    service_token_status: false,
    service_token_id: "",
    is_warp: false,
    is_gateway: false,
    mtls_auth: { cert_presented: false, cert_serial: "", cert_issuer_dn: "", cert_issuer_ski: "", auth_status: "NONE" },
    auth_status: "NONE",
    iat,
    nbf: iat,
    exp: iat + checkSeconds(input.ttlSeconds ?? 86_400, "ttlSeconds"),
  };
  return sign(keys, claims, { typ: "JWT" });
}

async function sign(keys: TokenSigner, claims: object, extraHeader: { typ?: string } = {}): Promise<string> {
  const key = keys.current();
  return new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: "RS256", kid: key.kid, ...extraHeader }).sign(key.privateKey);
}

function issuedAt(now: Date | undefined): number {
  return Math.floor((now ?? new Date()).getTime() / 1000);
}

function checkAud(aud: string): void {
  if (!AUD.test(aud)) throw new AccessError("ERR_ACCESS_INVALID_INPUT", `aud must be an application AUD of 64 lowercase hex characters (got "${aud}")`);
}

function checkEmail(email: string): void {
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) throw new AccessError("ERR_ACCESS_INVALID_INPUT", `email must be an address such as "alice@example.com" (got "${email}")`);
}

function checkCountry(country: string): void {
  if (!COUNTRY.test(country)) throw new AccessError("ERR_ACCESS_INVALID_INPUT", `country must be an ISO 3166-1 alpha-2 code such as "JP", "XX" or "T1" (got "${country}")`);
}

function checkSeconds(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new AccessError("ERR_ACCESS_INVALID_INPUT", `${name} must be a positive whole number of seconds (got ${value})`);
  return value;
}
