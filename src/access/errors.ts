/**
 * Errors of the Access core. `AccessError` covers configuration and store problems; `AccessTokenError` is what the
 * origin verifier and the edge's own cookie checks throw for a token they reject. Codes are stable; messages name
 * the claim or setting, never the token itself.
 */
import { EdgelockError } from "../shared/errors.ts";

export type AccessErrorCode =
  | "ERR_ACCESS_CONFIG" // a missing or invalid setting: team domain, audience, application domain, tolerance
  | "ERR_ACCESS_INVALID_INPUT" // a bad argument to a token or store function
  | "ERR_SIGNING_KEYS_CORRUPT" // the signing-key folder cannot be read back
  | "ERR_SERVICE_TOKEN_EXISTS" // create() with a name already in the store
  | "ERR_SERVICE_TOKEN_STORE_CORRUPT"; // the service-token file cannot be read back

/** A configuration, input or state problem of the Access core; the message names the value and the fix. */
export class AccessError extends EdgelockError<AccessErrorCode> {}

export type AccessTokenErrorCode =
  | "ERR_TOKEN_MISSING" // no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie
  | "ERR_TOKEN_MALFORMED" // not a compact JWS, bad JSON, a missing kid or a missing required claim
  | "ERR_TOKEN_SIGNATURE" // the signature does not verify with the key named by kid
  | "ERR_TOKEN_AUDIENCE" // aud is missing or does not contain the expected AUD
  | "ERR_TOKEN_ISSUER" // iss is missing or is not https://<team domain>
  | "ERR_TOKEN_EXPIRED" // exp is in the past, beyond the clock tolerance
  | "ERR_TOKEN_NOT_YET_VALID" // nbf is in the future, beyond the clock tolerance
  | "ERR_TOKEN_UNKNOWN_KID" // no key with that kid, even after refetching the JWKS
  | "ERR_TOKEN_ALGORITHM" // alg is not RS256 (none, HS256 and every other value)
  | "ERR_TOKEN_TYPE" // the type claim is not the expected one, such as an org token sent to an app
  | "ERR_TOKEN_SESSION" // a meta token bound to another CF_AppSession cookie
  | "ERR_JWKS_UNAVAILABLE"; // the JWKS could not be fetched or parsed

/** A rejected Access token. `claim` names the claim or header parameter at fault, when there is one. */
export class AccessTokenError extends EdgelockError<AccessTokenErrorCode> {
  readonly claim: string | undefined;

  constructor(code: AccessTokenErrorCode, message: string, options: { cause?: unknown; claim?: string; kind?: "user" | "internal" } = {}) {
    super(code, message, options);
    this.claim = options.claim;
  }
}
