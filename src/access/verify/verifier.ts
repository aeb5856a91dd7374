/**
 * Origin-side validation of Access tokens, following Cloudflare's guide for origins. The verifier reads
 * Cf-Access-Jwt-Assertion (the CF_Authorization cookie only as a fallback) and verifies RS256 with the JWKS key
 * named by kid. It then checks iss, that aud contains the application's AUD, and exp and nbf. `typ` is not
 * required, because real tokens omit it.
 * This module is bundled into the Lambda function, so it depends on jose only.
 */
import { jwtVerify, type JWTPayload } from "jose";
import { AccessError, AccessTokenError } from "../errors.ts";
import { normalizeTeamDomain } from "../team-domain.ts";
import { JwksCache, type FetchLike } from "./jwks.ts";
import { readTokenHeader, toAccessTokenError } from "./token-errors.ts";

const AUD = /^[0-9a-f]{64}$/;
const MAX_TOLERANCE_SECONDS = 300;

export interface AccessVerifierOptions {
  /** Team domain, such as "acme.cloudflareaccess.com" (an https URL is accepted too). Required. */
  teamDomain: string | undefined;
  /** AUD tag of the application (64 hex), or several when one origin serves several applications. Required. */
  audience: string | readonly string[] | undefined;
  /** JWKS URL. Default: https://<teamDomain>/cdn-cgi/access/certs. */
  jwksUrl?: string;
  /** Fetch used for the JWKS, for a local CA or a test server. Default: the global fetch. */
  fetch?: FetchLike;
  /** Allowed clock difference for exp and nbf, in seconds, 0 to 300. Default 60. */
  clockToleranceSeconds?: number;
  /** Minimum seconds between two JWKS fetches caused by unknown kids or failures. Default 60. */
  refetchIntervalSeconds?: number;
  /** Seconds after which the JWKS is fetched again even without an unknown kid. Default 600. */
  cacheMaxAgeSeconds?: number;
  /** Time limit of one JWKS fetch, in seconds. Default 5. */
  fetchTimeoutSeconds?: number;
  /** Clock. Default: the system clock. */
  now?: () => Date;
}

/** A verified identity: a user after an identity login, or a service token. */
export type AccessIdentity =
  | { kind: "user"; email: string; sub: string; country: string | undefined; claims: JWTPayload }
  | { kind: "service"; commonName: string; claims: JWTPayload };

/** Request headers as a Fetch API Headers object or a plain record (node:http, ALB events). */
export type HeaderSource = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface AccessVerifier {
  /** Normalized team domain host. */
  readonly teamDomain: string;
  /** Expected `iss`. */
  readonly issuer: string;
  /** Accepted AUD tags. */
  readonly audience: readonly string[];
  /** Verifies one token and returns its identity; throws AccessTokenError. */
  verify(token: string | undefined): Promise<AccessIdentity>;
  /** Verifies the token of a request: Cf-Access-Jwt-Assertion, else the CF_Authorization cookie. */
  verifyRequest(headers: HeaderSource): Promise<AccessIdentity>;
  /** Number of JWKS fetches so far. */
  jwksFetchCount(): number;
}

/** Most accepted tokens remembered by one verifier. */
const VERIFIED_CACHE_SIZE = 1000;

interface VerifiedEntry {
  payload: JWTPayload;
  exp: number;
  nbf: number | undefined;
  verifiedAt: number;
  /** JWKS fetch count when the token was verified; a later fetch may have removed its key. */
  jwksFetches: number;
}

/** Creates a verifier; throws ERR_ACCESS_CONFIG naming the setting when teamDomain or audience is missing or invalid. */
export function createAccessVerifier(options: AccessVerifierOptions): AccessVerifier {
  const teamDomain = normalizeTeamDomain(options.teamDomain, "teamDomain");
  const issuer = `https://${teamDomain}`;
  const audience = readAudience(options.audience);
  const toleranceSeconds = readSeconds(options.clockToleranceSeconds, 60, "clockToleranceSeconds", MAX_TOLERANCE_SECONDS);
  const clock = options.now ?? (() => new Date());
  const fetch = options.fetch ?? (globalThis.fetch as unknown as FetchLike | undefined);
  if (fetch === undefined) throw new AccessError("ERR_ACCESS_CONFIG", "\"fetch\" is missing and this runtime has no global fetch; pass one");

  const jwks = new JwksCache({
    url: options.jwksUrl ?? `${issuer}/cdn-cgi/access/certs`,
    fetch,
    refetchIntervalMs: readSeconds(options.refetchIntervalSeconds, 60, "refetchIntervalSeconds") * 1000,
    maxAgeMs: readSeconds(options.cacheMaxAgeSeconds, 600, "cacheMaxAgeSeconds") * 1000,
    timeoutMs: readSeconds(options.fetchTimeoutSeconds, 5, "fetchTimeoutSeconds") * 1000,
    now: () => clock().getTime(),
  });

  const maxAgeMs = readSeconds(options.cacheMaxAgeSeconds, 600, "cacheMaxAgeSeconds") * 1000;
  const verified = new Map<string, VerifiedEntry>();

  /** Returns the claims of a token this verifier accepted recently, while they are still in date. */
  function fromCache(token: string, now: Date): JWTPayload | undefined {
    const entry = verified.get(token);
    if (entry === undefined) return undefined;
    const seconds = Math.floor(now.getTime() / 1000);
    const fresh = entry.jwksFetches === jwks.fetchCount && now.getTime() - entry.verifiedAt < maxAgeMs;
    // The same bounds as jose's: expired once exp <= now - tolerance, early while nbf > now + tolerance.
    const inDate = seconds < entry.exp + toleranceSeconds && (entry.nbf === undefined || seconds >= entry.nbf - toleranceSeconds);
    if (fresh && inDate) return entry.payload;
    verified.delete(token);
    return undefined;
  }

  async function verify(token: string | undefined): Promise<AccessIdentity> {
    if (token === undefined || token === "") throw new AccessTokenError("ERR_TOKEN_MISSING", "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie");
    const now = clock();
    const cached = fromCache(token, now);
    if (cached !== undefined) return toIdentity(cached);
    const { kid } = readTokenHeader(token);

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, () => jwks.getKey(kid), {
        algorithms: ["RS256"],
        issuer,
        audience: [...audience],
        clockTolerance: toleranceSeconds,
        currentDate: now,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw toAccessTokenError(error, { issuer, audience, now, toleranceSeconds });
    }
    const identity = toIdentity(payload);

    // A session presents the same token on every request: remembering accepted tokens until their exp (and no
    // longer than the JWKS cache's max age or a JWKS change) skips the RSA verification on repeats.
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(token, { payload, exp: payload.exp as number, nbf: payload.nbf, verifiedAt: now.getTime(), jwksFetches: jwks.fetchCount });
    return identity;
  }

  return {
    teamDomain,
    issuer,
    audience,
    verify,
    verifyRequest: (headers) => verify(tokenFromHeaders(headers)),
    jwksFetchCount: () => jwks.fetchCount,
  };
}

/** Classifies verified claims: `type` must be "app" when present; a user token has an email, a service token a common_name. */
export function toIdentity(claims: JWTPayload): AccessIdentity {
  if (claims.type !== undefined && claims.type !== "app") {
    throw new AccessTokenError("ERR_TOKEN_TYPE", `claim "type" must be "app" (got ${JSON.stringify(claims.type)})`, { claim: "type" });
  }
  if (typeof claims.email === "string" && claims.email !== "") {
    return { kind: "user", email: claims.email, sub: typeof claims.sub === "string" ? claims.sub : "", country: typeof claims.country === "string" ? claims.country : undefined, claims };
  }
  if (typeof claims.common_name === "string" && claims.common_name !== "") {
    return { kind: "service", commonName: claims.common_name, claims };
  }
  throw new AccessTokenError("ERR_TOKEN_MALFORMED", "token has neither an \"email\" nor a \"common_name\" claim");
}

/** Reads the token from Cf-Access-Jwt-Assertion, else from the CF_Authorization cookie; undefined when neither exists. */
export function tokenFromHeaders(headers: HeaderSource): string | undefined {
  const assertion = readHeader(headers, "cf-access-jwt-assertion");
  if (assertion !== undefined && assertion !== "") return assertion;

  const cookies = readHeader(headers, "cookie") ?? "";
  for (const pair of cookies.split(";")) {
    const separator = pair.indexOf("=");
    if (separator !== -1 && pair.slice(0, separator).trim() === "CF_Authorization") return pair.slice(separator + 1).trim();
  }
  return undefined;
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === "function") return (headers as { get(name: string): string | null }).get(name) ?? undefined;

  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    return typeof value === "string" ? value : value?.join(name === "cookie" ? "; " : ", ");
  }
  return undefined;
}

function readAudience(value: string | readonly string[] | undefined): readonly string[] {
  let list: string[] = [];
  if (typeof value === "string") list = [value];
  else if (value !== undefined) list = [...value];
  if (list.length === 0 || list.every((aud) => aud === "")) {
    throw new AccessError("ERR_ACCESS_CONFIG", "\"audience\" is missing; set it to the Access application's AUD tag (64 hex characters, the application's \"aud\" output)");
  }
  for (const aud of list) {
    if (!AUD.test(aud)) throw new AccessError("ERR_ACCESS_CONFIG", `"audience" must be AUD tags of 64 lowercase hex characters (got "${aud}")`);
  }
  return list;
}

function readSeconds(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? "of 0 or more" : `from 0 to ${max}`;
    throw new AccessError("ERR_ACCESS_CONFIG", `"${name}" must be a number of seconds ${range} (got ${value})`);
  }
  return value;
}
