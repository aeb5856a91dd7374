/**
 * Certificate issuance: the root CA, intermediates, and leaves for Cloudflare's origin pull (clientAuth) and for
 * the local listeners (serverAuth with subject alternative names). Leaves are CA:FALSE, because Cloudflare
 * rejects a CA certificate as an origin-pull certificate (error 1412).
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";
import { PkiError } from "./errors.ts";
import type { CryptoKey, CryptoKeyPair } from "./webcrypto.ts";
import { exportPrivateKeyPem, generateKeyPair, signingAlgorithmFor, type KeyType } from "./keys.ts";

const DAY_MS = 86_400_000;
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

/** A certificate with its private key, both as PEM. */
export interface IssuedCertificate {
  certificate: x509.X509Certificate;
  certificatePem: string;
  privateKey: CryptoKey;
  privateKeyPem: string;
}

/** The signing side: a CA certificate and its private key. */
export interface Issuer {
  certificate: x509.X509Certificate;
  privateKey: CryptoKey;
}

export interface SubjectFields {
  /** Common name. */
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  locality?: string;
  state?: string;
  /** Two-letter country code. */
  country?: string;
}

export interface CertificateOptions {
  /** Key type of the new key. Default "ecdsa-p256". */
  keyType?: KeyType;
  /** Start of validity. Default: now, less one minute for clock skew. */
  notBefore?: Date;
  /** Validity in days from notBefore. Defaults: CA 1825 (5 years), leaf 730 (2 years). */
  validityDays?: number;
  /** Serial number as hex. Default: 16 random bytes with the top bit clear. */
  serialNumber?: string;
  /** An existing key pair to certify instead of generating one. */
  keys?: CryptoKeyPair;
}

export type LeafProfile = "client" | "server";

export interface LeafOptions extends CertificateOptions {
  profile: LeafProfile;
  subject: SubjectFields;
  /** DNS names for the subject alternative name extension (server certificates). */
  dnsNames?: string[];
  /** IP addresses for the subject alternative name extension (server certificates). */
  ipAddresses?: string[];
  /** Extended key usages to write instead of the profile's, for tests that need odd certificates. */
  extendedKeyUsages?: string[];
}

/** Returns a random positive serial number of 16 bytes as uppercase hex. */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10;
  return bytes.toString("hex").toUpperCase();
}

/** Builds an X.500 name string such as "CN=edgelock root CA, O=edgelock" from subject fields. */
export function distinguishedName(subject: SubjectFields): string {
  const parts: [string, string | undefined][] = [
    ["C", subject.country],
    ["ST", subject.state],
    ["L", subject.locality],
    ["O", subject.organization],
    ["OU", subject.organizationalUnit],
    ["CN", subject.commonName],
  ];
  const name = new x509.Name(
    parts.filter((part): part is [string, string] => part[1] !== undefined && part[1] !== "").map(([type, value]) => ({ [type]: [value] })),
  );
  return name.toString();
}

function validity(options: CertificateOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const days = options.validityDays ?? defaultDays;
  if (!Number.isFinite(days) || days === 0) {
    throw new PkiError("ERR_PKI_INVALID_INPUT", `validity must be a non-zero number of days (got ${days})`);
  }
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

function toIssued(certificate: x509.X509Certificate, keys: CryptoKeyPair, privateKeyPem: string): IssuedCertificate {
  return { certificate, certificatePem: certificate.toString("pem"), privateKey: keys.privateKey, privateKeyPem };
}

/** Creates a self-signed root CA: CA:TRUE, keyCertSign and cRLSign, subject key identifier. */
export async function createRootCa(subject: SubjectFields, options: CertificateOptions = {}): Promise<IssuedCertificate> {
  const keys = options.keys ?? (await generateKeyPair(options.keyType ?? "ecdsa-p256"));
  const { notBefore, notAfter } = validity(options, 1825);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: options.serialNumber ?? randomSerialNumber(),
    name: distinguishedName(subject),
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: signingAlgorithmFor(keys.privateKey),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return toIssued(certificate, keys, await exportPrivateKeyPem(keys.privateKey));
}

/** Signs a certificate for `keys` with the issuer's key, naming the issuer's subject as its issuer. */
function signByIssuer(
  issuer: Issuer,
  keys: CryptoKeyPair,
  subject: SubjectFields,
  dates: { notBefore: Date; notAfter: Date },
  serialNumber: string | undefined,
  extensions: x509.Extension[],
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: serialNumber ?? randomSerialNumber(),
    subject: distinguishedName(subject),
    issuer: issuer.certificate.subject,
    ...dates,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm: signingAlgorithmFor(issuer.privateKey),
    extensions,
  });
}

/** Creates an intermediate CA signed by `issuer`, with an optional path length constraint. */
export async function issueIntermediateCa(
  issuer: Issuer,
  subject: SubjectFields,
  options: CertificateOptions & { pathLength?: number } = {},
): Promise<IssuedCertificate> {
  const keys = options.keys ?? (await generateKeyPair(options.keyType ?? "ecdsa-p256"));
  const { notBefore, notAfter } = validity(options, 1825);
  const certificate = await signByIssuer(issuer, keys, subject, { notBefore, notAfter }, options.serialNumber, [
    new x509.BasicConstraintsExtension(true, options.pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
  ]);
  return toIssued(certificate, keys, await exportPrivateKeyPem(keys.privateKey));
}

function alternativeNames(dnsNames: string[], ipAddresses: string[]): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [];
  for (const dns of dnsNames) {
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(dns)) {
      throw new PkiError("ERR_PKI_INVALID_INPUT", `"${dns}" is not a valid DNS name for --dns; use a host name such as "app.localhost"`);
    }
    names.push({ type: "dns", value: dns.toLowerCase() });
  }
  for (const ip of ipAddresses) {
    if (isIP(ip) === 0) throw new PkiError("ERR_PKI_INVALID_INPUT", `"${ip}" is not an IP address for --ip; use an address such as "127.0.0.1" or "::1"`);
    names.push({ type: "ip", value: ip });
  }
  return names;
}

/**
 * Issues a leaf certificate: CA:FALSE, digitalSignature, and extended key usage clientAuth ("client") or
 * serverAuth ("server", with subject alternative names).
 */
export async function issueLeaf(issuer: Issuer, options: LeafOptions): Promise<IssuedCertificate> {
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  if (options.profile === "server" && dnsNames.length + ipAddresses.length === 0) {
    throw new PkiError("ERR_PKI_INVALID_INPUT", "a server certificate needs at least one --dns or --ip name");
  }

  const keys = options.keys ?? (await generateKeyPair(options.keyType ?? "ecdsa-p256"));
  const { notBefore, notAfter } = validity(options, 730);
  const usage = options.profile === "client" ? x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
  const extendedKeyUsages = options.extendedKeyUsages ?? [options.profile === "client" ? OID_CLIENT_AUTH : OID_SERVER_AUTH];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
  ];
  if (extendedKeyUsages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extendedKeyUsages, false));
  const names = alternativeNames(dnsNames, ipAddresses);
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));

  const certificate = await signByIssuer(issuer, keys, options.subject, { notBefore, notAfter }, options.serialNumber, extensions);
  return toIssued(certificate, keys, await exportPrivateKeyPem(keys.privateKey));
}
