/** The PKI library: keys, certificates, CRLs. The state folder and CLI build on these. */
export { PkiError, type PkiErrorCode } from "./errors.ts";
export { KEY_TYPES, DEFAULT_KEY_TYPE, parseKeyType, isSlowKeyType, generateKeyPair, exportPrivateKeyPem, importPrivateKeyPem, signingAlgorithmFor, describePublicKey, type KeyType } from "./keys.ts";
export { createRootCa, issueIntermediateCa, issueLeaf, randomSerialNumber, distinguishedName, type IssuedCertificate, type Issuer, type SubjectFields, type CertificateOptions, type LeafOptions, type LeafProfile } from "./certificates.ts";
export { createCrl, toCrlPem, type RevocationEntry, type CrlOptions } from "./crl.ts";
export { validateBundle, formatBundle, MAX_BUNDLE_CERTIFICATES, MAX_CERTIFICATE_BYTES, type ValidatedBundle, type ValidateBundleOptions } from "./bundle.ts";
