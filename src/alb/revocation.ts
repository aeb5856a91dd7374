/**
 * Certificate revocation lists of a trust store. AWS takes CRLs in PEM through AddTrustStoreRevocations and
 * rejects invalid content with InvalidRevocationContent ("invalid format or incorrect algorithm"); it matches
 * revoked certificates by serial number. We also require, at load, that a store CA issued and signed each CRL.
 */
import "reflect-metadata";
import { constants, verify as verifySignature } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateList } from "@peculiar/asn1-x509";
import { AlbError } from "./errors.ts";
import type { CertificateInfo } from "./mtls/certificate-info.ts";
import { formatRfc2253 } from "./mtls/distinguished-name.ts";

/** A CRL accepted into the trust store. */
export interface RevocationList {
  /** Source of the CRL, such as a file path, for messages. */
  source: string;
  /** RFC 2253 issuer name, equal to the subject of the store CA that signed it. */
  issuer: string;
  /** Fingerprint of the store CA whose key verified the signature. */
  issuerFingerprint: string;
  /** Revoked serial numbers as uppercase hex with an even digit count. */
  serialNumbers: Set<string>;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

const SIGNATURE_HASHES: Record<string, string> = {
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};
const RSASSA_PSS = "1.2.840.113549.1.1.10";
const PEM_CRL = /^-----BEGIN X509 CRL-----\n([A-Za-z0-9+/=\n]+)\n-----END X509 CRL-----\n?$/;

/** Formats the bytes of an ASN.1 INTEGER as the ALB's serial form: uppercase hex, no sign byte, even length. */
export function serialFromBytes(bytes: ArrayBuffer | Uint8Array): string {
  let view = Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  while (view.length > 1 && view[0] === 0) view = view.subarray(1);
  return view.toString("hex").toUpperCase();
}

function revocationError(source: string, problem: string, cause?: unknown): AlbError {
  return new AlbError("ERR_ALB_REVOCATION", `${source} is not valid revocation content: ${problem}`, { cause });
}

function signatureMatches(list: CertificateList, issuer: CertificateInfo): boolean {
  const tbs = Buffer.from(list.tbsCertListRaw ?? AsnConvert.serialize(list.tbsCertList));
  const signature = Buffer.from(list.signature);
  const algorithm = list.signatureAlgorithm.algorithm;
  if (algorithm === RSASSA_PSS) {
    // The hash sits in the PSS parameters; trying each accepted hash finds the one that verifies.
    const key = { key: issuer.x509.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO };
    return ["sha256", "sha384", "sha512"].some((hash) => verifySignature(hash, tbs, key, signature));
  }
  return verifySignature(SIGNATURE_HASHES[algorithm] as string, tbs, issuer.x509.publicKey, signature);
}

/**
 * Parses one PEM CRL ("BEGIN X509 CRL") and checks it against the store CAs. Throws AlbError ERR_ALB_REVOCATION
 * when the text is not one PEM CRL, its algorithm is not SHA-256/384/512 with RSA or ECDSA (or RSASSA-PSS), no
 * store CA has its issuer name, or no such CA's key verifies its signature.
 */
export function parseRevocationList(text: string, source: string, storeCertificates: readonly CertificateInfo[]): RevocationList {
  const match = PEM_CRL.exec(text.replaceAll("\r\n", "\n"));
  if (match === null) {
    throw revocationError(source, 'expected exactly one PEM block "-----BEGIN X509 CRL-----"; convert a DER CRL with "openssl crl -inform DER -outform PEM"');
  }

  let list: CertificateList;
  try {
    list = AsnConvert.parse(Buffer.from((match[1] as string).replaceAll("\n", ""), "base64"), CertificateList);
  } catch (error) {
    throw revocationError(source, `the PEM block is not a DER CertificateList (${(error as Error).message})`, error);
  }

  const algorithm = list.signatureAlgorithm.algorithm;
  if (SIGNATURE_HASHES[algorithm] === undefined && algorithm !== RSASSA_PSS) {
    throw revocationError(source, `signature algorithm OID ${algorithm} is not accepted; sign CRLs with SHA-256, SHA-384 or SHA-512 and RSA or ECDSA`);
  }

  const issuer = formatRfc2253(list.tbsCertList.issuer);
  const candidates = storeCertificates.filter((certificate) => certificate.subject === issuer);
  if (candidates.length === 0) {
    throw revocationError(source, `its issuer "${issuer}" is not the subject of any CA in the trust store; upload CRLs only from the store's CAs`);
  }
  const signer = candidates.find((candidate) => signatureMatches(list, candidate));
  if (signer === undefined) {
    throw revocationError(source, `its signature does not verify with the key of the trust-store CA "${issuer}"; re-create the CRL with that CA's key`);
  }

  const entries = list.tbsCertList.revokedCertificates ?? [];
  return {
    source,
    issuer,
    issuerFingerprint: signer.fingerprint,
    serialNumbers: new Set(entries.map((entry) => serialFromBytes(entry.userCertificate))),
    thisUpdate: list.tbsCertList.thisUpdate.getTime(),
    nextUpdate: list.tbsCertList.nextUpdate?.getTime(),
  };
}
