/** The PKI library: keys, certificates, CRLs, CA bundles and the state folder that the CLI and the other stages use. */
export { PkiError, type PkiErrorCode } from "./errors.ts";
export { KEY_TYPES, DEFAULT_KEY_TYPE, parseKeyType, isSlowKeyType, generateKeyPair, exportPrivateKeyPem, importPrivateKeyPem, signingAlgorithmFor, describePublicKey, type KeyType } from "./keys.ts";
export { createRootCa, issueIntermediateCa, issueLeaf, randomSerialNumber, distinguishedName, type IssuedCertificate, type Issuer, type SubjectFields, type CertificateOptions, type LeafOptions, type LeafProfile } from "./certificates.ts";
export { createCrl, toCrlPem, type RevocationEntry, type CrlOptions } from "./crl.ts";
export { validateBundle, formatBundle, MAX_BUNDLE_CERTIFICATES, MAX_CERTIFICATE_BYTES, type ValidatedBundle, type ValidateBundleOptions } from "./bundle.ts";
export { openPkiStore, DEFAULT_PKI_DIR, type PkiStore, type PkiStorePaths, type InitOptions, type IssueOptions, type StoreOptions } from "./store.ts";
export { EXPIRY_WARNING_DAYS, type CaInfo, type CertificateInfo, type CertificateStatus } from "./info.ts";
