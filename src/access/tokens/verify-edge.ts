/**
 * The edge's own checks of the tokens it issued: app and org CF_Authorization cookies and the meta token of a
 * login flow. Keys come straight from the SigningKeyStore (current and replaced keys still in their grace period),
 * with no clock tolerance because the edge is the issuer.
 */
import { timingSafeEqual } from "node:crypto";
import { jwtVerify, type JWTPayload } from "jose";
import { AccessTokenError } from "../errors.ts";
import { issuerFor } from "../team-domain.ts";
import { readTokenHeader, toAccessTokenError } from "../verify/token-errors.ts";
import { appSessionHash } from "./issue.ts";
import type { AppTokenClaims, MetaTokenClaims, OrgTokenClaims, ServiceAppTokenClaims, SigningKeyStore } from "./types.ts";

/** Anything that can look keys up by kid: a SigningKeyStore. */
export type KeyLookup = Pick<SigningKeyStore, "find">;

export interface EdgeTokenExpectation {
  /** Expected audience: the application AUD, or `orgTokenAudience(teamDomain)` for org tokens. */
  aud: string;
  /** Team domain host; `iss` must be https://<teamDomain>. */
  teamDomain: string;
  /** Expected `type` claim. Default "app". */
  type?: "app" | "org";
  /** Verification time. Default: now. */
  now?: Date;
}

/** Claims of a verified app or org token. */
export type EdgeTokenClaims = AppTokenClaims | ServiceAppTokenClaims | OrgTokenClaims;

/** Verifies an app or org token issued by this edge; throws AccessTokenError with the same codes as the origin verifier. */
export async function verifyEdgeToken(keys: KeyLookup, token: string | undefined, expected: EdgeTokenExpectation): Promise<EdgeTokenClaims> {
  if (token === undefined || token === "") throw new AccessTokenError("ERR_TOKEN_MISSING", "no CF_Authorization token");
  const issuer = issuerFor(expected.teamDomain);
  const now = expected.now ?? new Date();
  const payload = await verifySigned(keys, token, { issuer, audience: [expected.aud], now });

  const type = expected.type ?? "app";
  if (payload.type !== type) {
    throw new AccessTokenError("ERR_TOKEN_TYPE", `claim "type" must be "${type}" (got ${JSON.stringify(payload.type ?? null)})`, { claim: "type" });
  }
  return payload as unknown as EdgeTokenClaims;
}

/**
 * Verifies a meta token and that it belongs to this browser: its `app_session_hash` must be SHA-256 of the
 * CF_AppSession cookie the request carries. Throws ERR_TOKEN_SESSION when it does not.
 */
export async function verifyMetaToken(keys: KeyLookup, token: string | undefined, expected: { appSession: string | undefined; now?: Date }): Promise<MetaTokenClaims> {
  if (token === undefined || token === "") throw new AccessTokenError("ERR_TOKEN_MISSING", "no meta token in the login URL");
  const payload = await verifySigned(keys, token, { now: expected.now ?? new Date(), requiredClaims: ["exp", "app_session_hash"] });
  if (payload.type !== "meta") {
    throw new AccessTokenError("ERR_TOKEN_TYPE", `claim "type" must be "meta" (got ${JSON.stringify(payload.type ?? null)})`, { claim: "type" });
  }

  const expectedHash = Buffer.from(appSessionHash(expected.appSession ?? ""), "utf8");
  const actualHash = Buffer.from(String(payload.app_session_hash), "utf8");
  if (expected.appSession === undefined || expectedHash.length !== actualHash.length || !timingSafeEqual(expectedHash, actualHash)) {
    throw new AccessTokenError("ERR_TOKEN_SESSION", "meta token belongs to another CF_AppSession cookie; start the login again from the application", { claim: "app_session_hash" });
  }
  return payload as unknown as MetaTokenClaims;
}

async function verifySigned(
  keys: KeyLookup,
  token: string,
  checks: { issuer?: string; audience?: string[]; now: Date; requiredClaims?: string[] },
): Promise<JWTPayload> {
  const { kid } = readTokenHeader(token);
  const key = keys.find(kid);
  if (key === undefined) throw new AccessTokenError("ERR_TOKEN_UNKNOWN_KID", `header "kid" names no current signing key (kid ${kid})`, { claim: "kid" });

  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: ["RS256"],
      ...(checks.issuer === undefined ? {} : { issuer: checks.issuer }),
      ...(checks.audience === undefined ? {} : { audience: checks.audience }),
      currentDate: checks.now,
      clockTolerance: 0,
      requiredClaims: checks.requiredClaims ?? ["exp"],
    });
    return payload;
  } catch (error) {
    throw toAccessTokenError(error, { issuer: checks.issuer, audience: checks.audience, now: checks.now, toleranceSeconds: 0 });
  }
}
