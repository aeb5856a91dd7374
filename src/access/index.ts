/**
 * Cloudflare Access core: the policy engine, token issuance with the team domain's signing keys, the service-token
 * store, and the origin-side verifier. Libraries only: nothing here logs, and only the two stores touch the disk.
 */
export { AccessError, AccessTokenError, type AccessErrorCode, type AccessTokenErrorCode } from "./errors.ts";
export { normalizeTeamDomain, issuerFor } from "./team-domain.ts";

export {
  compileApplications,
  deriveAud,
  normalizeEmail,
  matchApplication,
  evaluatePolicies,
  couldEmailBeAllowed,
  parseDomainPattern,
  normalizeRequestHost,
  normalizeRequestPath,
  globMatches,
  parseAddress,
  parseCidr,
  cidrContains,
  type HostMap,
  type ParsedAddress,
  type CidrBlock,
  type CompiledApplication,
  type CompiledPolicy,
  type CompiledGroup,
  type CookieOptions,
  type DomainPattern,
  type EmailMatching,
  type PolicyContext,
  type PolicyDecisionType,
  type PolicyPhase,
  type PolicyResult,
} from "./policy/index.ts";

export {
  openSigningKeys,
  keyIdOf,
  issueAppToken,
  issueServiceAppToken,
  issueOrgToken,
  issueMetaToken,
  orgTokenAudience,
  appSessionHash,
  verifyEdgeToken,
  verifyMetaToken,
  subjectForEmail,
  identityNonce,
  uuidV5,
  type SigningKeyOptions,
  type TokenSigner,
  type AppTokenInput,
  type ServiceAppTokenInput,
  type OrgTokenInput,
  type MetaTokenInput,
  type KeyLookup,
  type EdgeTokenExpectation,
  type EdgeTokenClaims,
  type SigningKey,
  type SigningKeyStore,
  type AccessJwk,
  type AccessJwks,
  type AppTokenClaims,
  type ServiceAppTokenClaims,
  type OrgTokenClaims,
  type MetaTokenClaims,
  type MetaMtlsAuth,
} from "./tokens/index.ts";

export {
  openServiceTokenStore,
  type ServiceTokenStore,
  type ServiceTokenRecord,
  type CreatedServiceToken,
  type CreateOptions,
} from "./service-tokens.ts";

export {
  createAccessVerifier,
  toIdentity,
  tokenFromHeaders,
  readTokenHeader,
  JwksCache,
  type AccessVerifier,
  type AccessVerifierOptions,
  type AccessIdentity,
  type HeaderSource,
  type FetchLike,
  type JwksCacheOptions,
} from "./verify/index.ts";
