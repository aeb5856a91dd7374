/** Token issuance and the edge's own token checks, on the signing keys of the team domain. */
export { openSigningKeys, keyIdOf, type SigningKeyOptions } from "./signing-keys.ts";
export {
  issueAppToken,
  issueServiceAppToken,
  issueOrgToken,
  issueMetaToken,
  orgTokenAudience,
  appSessionHash,
  type TokenSigner,
  type AppTokenInput,
  type ServiceAppTokenInput,
  type OrgTokenInput,
  type MetaTokenInput,
} from "./issue.ts";
export { verifyEdgeToken, verifyMetaToken, type KeyLookup, type EdgeTokenExpectation, type EdgeTokenClaims } from "./verify-edge.ts";
export { subjectForEmail, identityNonce, uuidV5 } from "./identity.ts";
export type {
  SigningKey,
  SigningKeyStore,
  AccessJwk,
  AccessJwks,
  AppTokenClaims,
  ServiceAppTokenClaims,
  OrgTokenClaims,
  MetaTokenClaims,
  MetaMtlsAuth,
} from "./types.ts";
