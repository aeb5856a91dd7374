/** Views of the state records for callers: status, days left, and whether a certificate is still in use. */
import type { CaRecord, CertificateRecord } from "./state.ts";

const DAY_MS = 86_400_000;

/** Days before expiry at which a certificate counts as expiring, and `pki list` warns. */
export const EXPIRY_WARNING_DAYS = 30;

export type CertificateStatus = "valid" | "expiring" | "expired" | "not-yet-valid" | "revoked" | "replaced";

/** A certificate of the state folder as `list` and `issue` return it. Dates are ISO 8601 strings. */
export interface CertificateInfo {
  name: string;
  profile: "client" | "server";
  /** Serial number in uppercase hex, as the ALB prints it in X-Amzn-Mtls-Clientcert-Serial-Number. */
  serial: string;
  subject: string;
  issuer: string;
  /** Serial of the CA that signed it. */
  issuerSerial: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  keyType: string;
  dnsNames: string[];
  ipAddresses: string[];
  issuedAt: string;
  revokedAt?: string;
  replacedAt?: string;
  status: CertificateStatus;
  /** True unless revoked or replaced by a newer certificate of the same name. */
  inUse: boolean;
}

/** The root CA of the state folder. Dates are ISO 8601 strings. */
export interface CaInfo {
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  keyType: string;
  status: Exclude<CertificateStatus, "revoked" | "replaced">;
  certificatePath: string;
}

/** Returns whole days from `now` until `notAfter`, rounded down. */
export function daysUntil(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

function validityStatus(notBefore: string, notAfter: string, now: Date): CaInfo["status"] {
  if (now.getTime() < Date.parse(notBefore)) return "not-yet-valid";
  if (now.getTime() >= Date.parse(notAfter)) return "expired";
  return daysUntil(notAfter, now) <= EXPIRY_WARNING_DAYS ? "expiring" : "valid";
}

export function toCertificateInfo(record: CertificateRecord, now: Date): CertificateInfo {
  let status: CertificateStatus = validityStatus(record.notBefore, record.notAfter, now);
  if (record.replacedAt !== undefined) status = "replaced";
  if (record.revokedAt !== undefined) status = "revoked";
  return { ...record, daysLeft: daysUntil(record.notAfter, now), status, inUse: record.revokedAt === undefined && record.replacedAt === undefined };
}

export function toCaInfo(record: CaRecord, certificatePath: string, now: Date): CaInfo {
  return {
    subject: record.subject,
    serial: record.serial,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    daysLeft: daysUntil(record.notAfter, now),
    keyType: record.keyType,
    status: validityStatus(record.notBefore, record.notAfter, now),
    certificatePath,
  };
}
