/** Helpers over the records of state.json: lookups by name or serial, and the facts stored for a certificate. */
import { X509Certificate as NodeX509Certificate } from "node:crypto";
import type { IssuedCertificate } from "./certificates.ts";
import type { CertificateRecord, PkiState } from "./state.ts";
import { normalizeSerial } from "./validation.ts";

const DAY_MS = 86_400_000;

export function describe(issued: IssuedCertificate): { serial: string; subject: string; notBefore: string; notAfter: string } {
  const node = new NodeX509Certificate(issued.certificatePem);
  return {
    serial: node.serialNumber.toUpperCase(),
    subject: issued.certificate.subject,
    notBefore: issued.certificate.notBefore.toISOString(),
    notAfter: issued.certificate.notAfter.toISOString(),
  };
}

/** Returns the certificate that currently owns `name`: the newest record of that name that was not replaced. */
export function currentRecord(state: PkiState, name: string): CertificateRecord | undefined {
  return state.certificates.findLast((record) => record.name === name && record.replacedAt === undefined);
}

/** Finds a certificate by its name (the current one) or, failing that, by its serial number. */
export function findRecord(state: PkiState, nameOrSerial: string): CertificateRecord | undefined {
  const byName = currentRecord(state, nameOrSerial);
  if (byName !== undefined) return byName;
  const serial = normalizeSerial(nameOrSerial);
  if (serial === undefined) return undefined;
  return state.certificates.find((record) => record.serial.replace(/^0+(?=.)/, "") === serial);
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function normalizePem(pem: string): string {
  const text = pem.replaceAll("\r\n", "\n");
  return text.endsWith("\n") ? text : `${text}\n`;
}
