/**
 * The PKI files a deployment uploads: the CA bundle (trust store), the CRL (trust store revocation) and the
 * origin-pull client certificate with its key (Cloudflare). The root CA's private key is never read here.
 */
import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as x509 from "@peculiar/x509";
import { openPkiStore } from "../pki/store.ts";

const DAY_MS = 86_400_000;

/** Days before expiry at which a certificate or CRL counts as expiring. */
export const EXPIRY_WARNING_DAYS = 30;

/** The contents a deployment needs, as PEM text. */
export interface PkiFiles {
  /** CA bundle for the ALB trust store, as `edgelock pki bundle` writes it. */
  bundlePem: string;
  /** CRL in PEM with the "X509 CRL" label. */
  crlPem: string;
  /** Origin-pull client certificate that Cloudflare presents to the ALB. */
  originPullCertificatePem: string;
  /** Private key of the origin-pull certificate; handled as a Pulumi secret. */
  originPullKeyPem: string;
}

export interface PkiInspection {
  /** The file contents, or undefined when a required file is missing or unreadable. */
  files?: PkiFiles;
  /** One line per problem, each with the fix. */
  problems: string[];
}

function daysLeft(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
}

function checkCertificate(label: string, path: string, pem: string, now: Date, renew: string, problems: string[]): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    problems.push(`${label} ${path} is not a readable PEM certificate (${(error as Error).message}); ${renew}`);
    return;
  }
  const notAfter = new Date(certificate.validTo);
  const left = daysLeft(notAfter, now);
  if (left < 0) problems.push(`${label} ${path} expired on ${notAfter.toISOString()}; ${renew}`);
  else if (left < EXPIRY_WARNING_DAYS) problems.push(`${label} ${path} expires on ${notAfter.toISOString()} (in ${left} days, under ${EXPIRY_WARNING_DAYS}); ${renew}`);
}

function splitPemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * Reads and checks the PKI files: every required file present, every certificate (CA, bundle members,
 * origin pull) valid for at least 30 more days, and the CRL readable and before its nextUpdate.
 */
export function inspectPkiFiles(dir: string, originPullName: string, now = new Date()): PkiInspection {
  // Only these five paths are read; paths.caKey, the root CA's private key, is never opened.
  const paths = openPkiStore(dir).paths;
  const required = [
    { label: "root CA certificate", path: paths.caCert, fix: 'run "edgelock pki init"' },
    { label: "CA bundle", path: paths.bundle, fix: 'run "edgelock pki bundle"' },
    { label: "CRL", path: paths.crl, fix: 'run "edgelock pki crl"' },
    { label: "origin-pull certificate", path: paths.certificate(originPullName), fix: `run "edgelock pki issue client ${originPullName}"` },
    { label: "origin-pull private key", path: paths.key(originPullName), fix: `run "edgelock pki issue client ${originPullName}"` },
  ];
  const problems: string[] = [];
  const missing = required.filter((file) => !existsSync(file.path));
  for (const file of missing) problems.push(`${file.label} not found at ${file.path}; ${file.fix}`);
  if (missing.length > 0) return { problems };

  const [caPem, bundlePem, crlPem, originPullCertificatePem, originPullKeyPem] = required.map((file) => readFileSync(file.path, "utf8")) as [string, string, string, string, string];

  checkCertificate("root CA certificate", paths.caCert, caPem, now, 'create a new CA and add it to the bundle with "edgelock pki bundle --add"', problems);
  const members = splitPemCertificates(bundlePem);
  if (members.length === 0) problems.push(`CA bundle ${paths.bundle} holds no PEM certificate; run "edgelock pki bundle"`);
  members.forEach((member, index) => checkCertificate(`CA bundle certificate ${index + 1} in`, paths.bundle, member, now, 'rebuild it with "edgelock pki bundle"', problems));
  checkCertificate("origin-pull certificate", paths.certificate(originPullName), originPullCertificatePem, now, `reissue it with "edgelock pki issue client ${originPullName}"`, problems);
  if (!/-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(originPullKeyPem)) {
    problems.push(`origin-pull private key ${paths.key(originPullName)} is not a PEM private key; reissue it with "edgelock pki issue client ${originPullName}"`);
  }

  try {
    const crl = new x509.X509Crl(crlPem);
    if (crl.nextUpdate !== undefined && crl.nextUpdate.getTime() < now.getTime()) {
      problems.push(`CRL ${paths.crl} is past its nextUpdate (${crl.nextUpdate.toISOString()}); run "edgelock pki crl"`);
    }
  } catch (error) {
    problems.push(`CRL ${paths.crl} is not a readable PEM CRL (${(error as Error).message}); run "edgelock pki crl"`);
  }

  return { files: { bundlePem, crlPem, originPullCertificatePem, originPullKeyPem }, problems };
}
