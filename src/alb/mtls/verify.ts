/**
 * Client certificate verification of an ALB listener in mTLS verify mode. AWS documents the inputs (trust store,
 * CRLs, ignore-expiry, chain depth 4, accepted key and signature algorithms) and the connection-log codes. It does
 * not document the exact rules, so where it is silent we apply the settings in `local.alb` with their defaults.
 */
import type { TrustStore } from "../trust-store.ts";
import type { CertificateInfo } from "./certificate-info.ts";
import type { FailureReason } from "./reasons.ts";

const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const KEY_USAGE_DIGITAL_SIGNATURE = 1;
const ACCEPTED_CURVES = new Set(["prime256v1", "secp384r1", "secp521r1"]);
const ACCEPTED_SIGNATURES = new Set([
  "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
  "1.2.840.113549.1.1.12", // sha384WithRSAEncryption
  "1.2.840.113549.1.1.13", // sha512WithRSAEncryption
  "1.2.840.113549.1.1.10", // RSASSA-PSS
  "1.2.840.10045.4.3.2", // ecdsa-with-SHA256
  "1.2.840.10045.4.3.3", // ecdsa-with-SHA384
  "1.2.840.10045.4.3.4", // ecdsa-with-SHA512
]);
/** Longest path the search follows before it calls a chain untrusted, whatever `maxChainDepth` is. */
const SEARCH_LIMIT = 16;

export interface VerifyOptions {
  /** Maximum path length, leaf and anchor included. Default 4 (the ALB quota). */
  maxChainDepth: number;
  /** Only a self-signed store certificate may end a path. Default false: any store certificate anchors. */
  requireSelfSignedAnchor: boolean;
  /** The listener's IgnoreClientCertificateExpiry: a leaf past notAfter passes. */
  ignoreClientCertificateExpiry: boolean;
  /** With ignoreClientCertificateExpiry, expired CAs on the path pass too. */
  ignoreExpiryForIntermediates: boolean;
  /** Fails the connection when a CRL of a path certificate's issuer is past nextUpdate. */
  checkCrlNextUpdate: boolean;
  /** The instant the dates are checked against. */
  now: Date;
}

/** The outcome: the verified path from leaf to anchor, or the connection-log code and a reason for humans. */
export type VerifyResult = { ok: true; path: CertificateInfo[] } | { ok: false; reason: FailureReason; detail: string };

function fail(reason: FailureReason, detail: string): VerifyResult {
  return { ok: false, reason, detail };
}

/** Describes why a key is outside the ALB's list (RSA 2048-8192, ECDSA P-256/P-384/P-521), or undefined. */
export function unsupportedKey(certificate: CertificateInfo): string | undefined {
  const { type, bits, curve } = certificate.key;
  if (type === "rsa" || type === "rsa-pss") return bits !== undefined && bits >= 2048 && bits <= 8192 ? undefined : `RSA ${bits}-bit key`;
  if (type === "ec") return curve !== undefined && ACCEPTED_CURVES.has(curve) ? undefined : `ECDSA key on curve ${curve}`;
  return `${type} key`;
}

function issues(issuer: CertificateInfo, child: CertificateInfo): boolean {
  return child.x509.checkIssued(issuer.x509) && child.x509.verify(issuer.x509.publicKey);
}

function isSelfSigned(certificate: CertificateInfo): boolean {
  return issues(certificate, certificate);
}

/** Depth-first search from the leaf to a store certificate, trying store issuers before presented ones. */
function buildPath(path: CertificateInfo[], presented: readonly CertificateInfo[], store: TrustStore, selfSignedAnchor: boolean): CertificateInfo[] | undefined {
  const current = path[path.length - 1] as CertificateInfo;
  if (store.contains(current) && (!selfSignedAnchor || isSelfSigned(current))) return path;
  if (path.length >= SEARCH_LIMIT) return undefined;

  const onPath = new Set(path.map((certificate) => certificate.fingerprint));
  const candidates = [...store.certificates, ...presented].filter((candidate) => !onPath.has(candidate.fingerprint) && issues(candidate, current));
  for (const candidate of candidates) {
    const found = buildPath([...path, candidate], presented, store, selfSignedAnchor);
    if (found !== undefined) return found;
  }
  return undefined;
}

function checkIssuers(path: CertificateInfo[]): VerifyResult | undefined {
  for (let index = 1; index < path.length; index++) {
    const issuer = path[index] as CertificateInfo;
    if (!issuer.isCa) return fail("ClientCertUntrusted", `issuer "${issuer.subject}" is not a CA (basicConstraints CA:TRUE is missing)`);
    // Intermediate CAs below this issuer, the leaf excluded, must not exceed its pathLenConstraint.
    if (issuer.pathLength !== undefined && index - 1 > issuer.pathLength) {
      return fail("ClientCertUntrusted", `issuer "${issuer.subject}" allows ${issuer.pathLength} intermediate CAs below it, but the path has ${index - 1}`);
    }
  }
  return undefined;
}

function checkDates(path: CertificateInfo[], options: VerifyOptions): VerifyResult | undefined {
  const now = options.now.getTime();
  for (const [index, certificate] of path.entries()) {
    const role = index === 0 ? "client certificate" : `CA "${certificate.subject}"`;
    if (certificate.notBefore.getTime() > now) return fail("ClientCertNotYetValid", `${role} is not valid before ${certificate.notBefore.toISOString()}`);

    const ignoreExpiry = options.ignoreClientCertificateExpiry && (index === 0 || options.ignoreExpiryForIntermediates);
    if (certificate.notAfter.getTime() < now && !ignoreExpiry) return fail("ClientCertExpired", `${role} expired at ${certificate.notAfter.toISOString()}`);
  }
  return undefined;
}

function checkPurpose(leaf: CertificateInfo): VerifyResult | undefined {
  if (leaf.isCa) return fail("ClientCertPurposeInvalid", "client certificate is a CA certificate (basicConstraints CA:TRUE)");
  if (leaf.extendedKeyUsages !== undefined && !leaf.extendedKeyUsages.includes(OID_CLIENT_AUTH)) {
    return fail("ClientCertPurposeInvalid", `client certificate's extended key usage lacks clientAuth (has ${leaf.extendedKeyUsages.join(", ") || "none"})`);
  }
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE) === 0) {
    return fail("ClientCertPurposeInvalid", "client certificate's key usage lacks digitalSignature");
  }
  return undefined;
}

function checkRevocation(path: CertificateInfo[], store: TrustStore, options: VerifyOptions): VerifyResult | undefined {
  for (let index = 0; index < path.length - 1; index++) {
    const certificate = path[index] as CertificateInfo;
    const issuer = path[index + 1] as CertificateInfo;
    if (options.checkCrlNextUpdate) {
      const stale = store.revocationListsOf(issuer.fingerprint).find((list) => list.nextUpdate !== undefined && list.nextUpdate.getTime() < options.now.getTime());
      if (stale !== undefined) return fail("ClientCertCrlProcessingError", `CRL ${stale.source} of "${issuer.subject}" is past its nextUpdate ${stale.nextUpdate?.toISOString()}`);
    }
    if (store.isRevoked(certificate)) {
      const role = index === 0 ? "client certificate" : `CA "${certificate.subject}"`;
      return fail("ClientCertCrlHit", `${role} with serial ${certificate.serialNumber} is revoked by a CRL of "${certificate.issuer}"`);
    }
  }
  return undefined;
}

/**
 * Verifies a client certificate and the intermediates the client sent against a trust store. Checks run in this
 * order, and the first failure gives the code: X.509 version, leaf key type, path to the store, depth, key and
 * signature algorithms on the path, issuer constraints, dates, purpose, revocation.
 */
export function verifyClientCertificate(leaf: CertificateInfo, presented: readonly CertificateInfo[], store: TrustStore, options: VerifyOptions): VerifyResult {
  if (leaf.version !== 3) return fail("ClientCertInvalid", `client certificate is X.509 version ${leaf.version}; only version 3 is accepted`);
  const leafKeyProblem = unsupportedKey(leaf);
  if (leafKeyProblem !== undefined) return fail("ClientCertTypeUnsupported", `client certificate has an unsupported ${leafKeyProblem}`);

  const path = buildPath([leaf], presented, store, options.requireSelfSignedAnchor);
  if (path === undefined) return fail("ClientCertUntrusted", `no path from issuer "${leaf.issuer}" to a trust-store CA`);
  if (path.length > options.maxChainDepth) {
    return fail("ClientCertMaxChainDepthExceeded", `chain has ${path.length} certificates, leaf and anchor included; the limit is ${options.maxChainDepth}`);
  }

  for (const [index, certificate] of path.entries()) {
    const keyProblem = index === 0 ? undefined : unsupportedKey(certificate);
    if (keyProblem !== undefined) return fail("ClientCertTypeUnsupported", `CA "${certificate.subject}" has an unsupported ${keyProblem}`);
    // The anchor's own signature is not part of the verification, as in OpenSSL.
    if (index < path.length - 1 && !ACCEPTED_SIGNATURES.has(certificate.signatureAlgorithm)) {
      return fail("ClientCertIncompatible", `"${certificate.subject}" is signed with algorithm OID ${certificate.signatureAlgorithm}; accepted: SHA-256/384/512 with RSA, RSASSA-PSS or ECDSA`);
    }
  }

  return checkIssuers(path) ?? checkDates(path, options) ?? checkPurpose(leaf) ?? checkRevocation(path, store, options) ?? { ok: true, path };
}
