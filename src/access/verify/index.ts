/** The origin-side verifier, small enough for the Lambda bundle: jose plus these files. */
export { createAccessVerifier, toIdentity, tokenFromHeaders, type AccessVerifier, type AccessVerifierOptions, type AccessIdentity, type HeaderSource } from "./verifier.ts";
export { JwksCache, type FetchLike, type JwksCacheOptions } from "./jwks.ts";
export { readTokenHeader, toAccessTokenError, type TokenHeader } from "./token-errors.ts";
