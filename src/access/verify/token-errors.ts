/**
 * Checks shared by the origin verifier and the edge's own cookie checks: the header pre-check (only RS256, a kid
 * present) and the translation of jose's errors into AccessTokenError codes. Messages name the claim and the
 * rule, never the token.
 */
import { decodeProtectedHeader } from "jose";
import { AccessTokenError } from "../errors.ts";

/** The parts of a token header the verifiers need. */
export interface TokenHeader {
  kid: string;
  alg: "RS256";
}

/**
 * Reads and checks a token's protected header before any key lookup: the token must be a compact JWS, `alg` must
 * be RS256 (so "none" and HS256 never reach a key) and `kid` must be present. Throws AccessTokenError.
 */
export function readTokenHeader(token: string): TokenHeader {
  if (token.split(".").length !== 3) {
    throw new AccessTokenError("ERR_TOKEN_MALFORMED", "token is not a compact JWS (three base64url parts separated by \".\")");
  }

  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch (error) {
    throw new AccessTokenError("ERR_TOKEN_MALFORMED", "token header is not base64url-encoded JSON", { cause: error });
  }
  if (header.alg !== "RS256") {
    throw new AccessTokenError("ERR_TOKEN_ALGORITHM", `header "alg" must be "RS256" (got ${JSON.stringify(header.alg ?? null)})`, { claim: "alg" });
  }
  if (typeof header.kid !== "string" || header.kid === "") {
    throw new AccessTokenError("ERR_TOKEN_MALFORMED", "header \"kid\" is missing; Access tokens name their signing key", { claim: "kid" });
  }
  return { kid: header.kid, alg: "RS256" };
}

interface JoseErrorShape {
  code?: unknown;
  claim?: unknown;
  reason?: unknown;
  payload?: Record<string, unknown>;
  message?: unknown;
}

/** Describes what the verifier expected, for messages. */
export interface Expectation {
  issuer?: string;
  audience?: readonly string[];
  now: Date;
  toleranceSeconds: number;
}

/** Translates an error from jose's jwtVerify into an AccessTokenError; other errors are returned unchanged. */
export function toAccessTokenError(error: unknown, expected: Expectation): unknown {
  if (error instanceof AccessTokenError) return error;
  const jose = (error ?? {}) as JoseErrorShape;
  if (typeof jose.code !== "string" || !jose.code.startsWith("ERR_J")) return error;

  const claim = typeof jose.claim === "string" ? jose.claim : undefined;
  const payload = jose.payload ?? {};
  const options = { cause: error, ...(claim === undefined ? {} : { claim }) };
  switch (jose.code) {
    case "ERR_JWT_EXPIRED":
      return new AccessTokenError("ERR_TOKEN_EXPIRED", `token expired: claim "exp" is ${describeTime(payload.exp)}, ${describeNow(expected)}`, options);
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new AccessTokenError("ERR_TOKEN_SIGNATURE", "token signature does not verify with the key its \"kid\" names", options);
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return new AccessTokenError("ERR_TOKEN_ALGORITHM", "header \"alg\" must be \"RS256\"", options);
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return claimError(claim, jose.reason === "missing", payload, expected, options);
    default:
      return new AccessTokenError("ERR_TOKEN_MALFORMED", `token cannot be parsed: ${String(jose.message)}`, options);
  }
}

function claimError(
  claim: string | undefined,
  missing: boolean,
  payload: Record<string, unknown>,
  expected: Expectation,
  options: { cause: unknown; claim?: string },
): AccessTokenError {
  if (claim === "aud") {
    const rule = missing ? "is missing" : `does not contain the expected AUD (got ${JSON.stringify(payload.aud)})`;
    return new AccessTokenError("ERR_TOKEN_AUDIENCE", `claim "aud" ${rule}; expected ${(expected.audience ?? []).join(" or ")}`, options);
  }
  if (claim === "iss") {
    const rule = missing ? "is missing" : `must be "${expected.issuer}" (got ${JSON.stringify(payload.iss)})`;
    return new AccessTokenError("ERR_TOKEN_ISSUER", `claim "iss" ${rule}`, options);
  }
  if (claim === "nbf" && !missing && typeof payload.nbf === "number") {
    return new AccessTokenError("ERR_TOKEN_NOT_YET_VALID", `token is not valid yet: claim "nbf" is ${describeTime(payload.nbf)}, ${describeNow(expected)}`, options);
  }
  const rule = missing ? "is missing" : "is invalid";
  return new AccessTokenError("ERR_TOKEN_MALFORMED", `claim "${claim}" ${rule}`, options);
}

function describeTime(seconds: unknown): string {
  return typeof seconds === "number" && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : JSON.stringify(seconds);
}

function describeNow(expected: Expectation): string {
  return `now is ${expected.now.toISOString()} (clock tolerance ${expected.toleranceSeconds} s)`;
}
