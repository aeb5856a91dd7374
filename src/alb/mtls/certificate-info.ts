/**
 * One parse of a certificate into the facts the verify step, the mTLS headers and the connection log need.
 * Node's X509Certificate does the signature and issuer checks (OpenSSL underneath); @peculiar/asn1-x509 reads
 * the extensions and the names, because Node prints names one RDN per line in certificate order.
 */
import "reflect-metadata";
import { createHash, X509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
} from "@peculiar/asn1-x509";
import { formatRfc2253 } from "./distinguished-name.ts";

/** The public key of a certificate, as far as the ALB's key rules need it. */
export interface KeyDescription {
  /** Node's asymmetricKeyType: "rsa", "rsa-pss", "ec", "ed25519", "dsa", … */
  type: string;
  /** RSA modulus length in bits. */
  bits?: number;
  /** OpenSSL curve name of an EC key: "prime256v1", "secp384r1", "secp521r1", "secp256k1", … */
  curve?: string;
}

/** A parsed certificate. */
export interface CertificateInfo {
  x509: X509Certificate;
  der: Buffer;
  /** SHA-256 fingerprint as Node prints it, a stable key for caches. */
  fingerprint: string;
  /** X.509 version: 1, 2 or 3. */
  version: number;
  /** RFC 2253 subject, as OpenSSL prints it. */
  subject: string;
  /** RFC 2253 issuer, as OpenSSL prints it. */
  issuer: string;
  /** Serial number as uppercase hex with an even digit count. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA; false when the extension is absent. */
  isCa: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  pathLength: number | undefined;
  /** KeyUsage bits (asn1-x509 KeyUsageFlags), or undefined when the extension is absent. */
  keyUsage: number | undefined;
  /** Extended key usage OIDs, or undefined when the extension is absent. */
  extendedKeyUsages: string[] | undefined;
  /** OID of the certificate's signature algorithm. */
  signatureAlgorithm: string;
  key: KeyDescription;
  /** PEM with 64-character lines and a final newline. */
  pem: string;
}

/** Returns a serial number in the ALB's form: uppercase hex, padded to an even number of digits. */
export function formatSerialNumber(hex: string): string {
  const upper = hex.toUpperCase();
  return upper.length % 2 === 1 ? `0${upper}` : upper;
}

function extensionValue<T>(certificate: Certificate, oid: string, type: new () => T): T | undefined {
  const extension = certificate.tbsCertificate.extensions?.find((candidate) => candidate.extnID === oid);
  return extension === undefined ? undefined : AsnConvert.parse(extension.extnValue, type);
}

/** Parses DER or a Node X509Certificate. Throws when the bytes are not a certificate. */
export function parseCertificate(input: Buffer | X509Certificate): CertificateInfo {
  const x509 = input instanceof X509Certificate ? input : new X509Certificate(input);
  const der = x509.raw;
  const certificate = AsnConvert.parse(der, Certificate);
  const tbs = certificate.tbsCertificate;
  const basicConstraints = extensionValue(certificate, id_ce_basicConstraints, BasicConstraints);
  const keyUsage = extensionValue(certificate, id_ce_keyUsage, KeyUsage);
  const extendedKeyUsage = extensionValue(certificate, id_ce_extKeyUsage, ExtendedKeyUsage);
  const details = x509.publicKey.asymmetricKeyDetails ?? {};

  return {
    x509,
    der,
    fingerprint: x509.fingerprint256,
    version: tbs.version + 1,
    subject: formatRfc2253(tbs.subject),
    issuer: formatRfc2253(tbs.issuer),
    serialNumber: formatSerialNumber(x509.serialNumber),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    isCa: basicConstraints?.cA ?? false,
    pathLength: basicConstraints?.pathLenConstraint,
    keyUsage: keyUsage?.toNumber(),
    extendedKeyUsages: extendedKeyUsage === undefined ? undefined : [...extendedKeyUsage],
    signatureAlgorithm: certificate.signatureAlgorithm.algorithm,
    key: { type: x509.publicKey.asymmetricKeyType ?? "unknown", bits: details.modulusLength, curve: details.namedCurve },
    pem: x509.toString(),
  };
}

/** Formats validity as the ALB's header and log do: `NotBefore=2023-09-21T01:50:17Z;NotAfter=…Z`. */
export function formatValidity(info: Pick<CertificateInfo, "notBefore" | "notAfter">): string {
  const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");
  return `NotBefore=${seconds(info.notBefore)};NotAfter=${seconds(info.notAfter)}`;
}

/** Most certificates kept parsed; the same origin-pull certificate arrives on every connection. */
const PARSE_CACHE_SIZE = 256;
const parsed = new Map<string, CertificateInfo>();

/**
 * Parses DER like parseCertificate, reusing an earlier parse of the same bytes. Parsing costs about 0.5 ms per
 * certificate, more than the rest of a P-256 handshake, while verification still runs on every connection.
 */
export function parseCertificateCached(der: Buffer): CertificateInfo {
  const key = createHash("sha256").update(der).digest("base64");
  const cached = parsed.get(key);
  if (cached !== undefined) return cached;

  const info = parseCertificate(der);
  if (parsed.size >= PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, info);
  return info;
}
