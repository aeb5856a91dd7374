/** Checks on user input to the state folder: certificate names, serials, subject fields and validity periods. */
import type { SubjectFields } from "./certificates.ts";
import { PkiError } from "./errors.ts";

/** Certificate names: lowercase letters, digits, "." and "-", starting with a letter or digit, at most 64. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{0,63}$/;

/** Maximum validity accepted for any certificate, in days (about 100 years). */
export const MAX_VALIDITY_DAYS = 36_500;

export function validateName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new PkiError(
      "ERR_PKI_INVALID_INPUT",
      `certificate name "${name}" is invalid; use lowercase letters, digits, "." and "-", starting with a letter or digit, at most 64 characters (such as "origin-pull")`,
    );
  }
}

/** Normalizes a serial given by a user ("0a:1b", "0A1B") to uppercase hex without separators or leading zeros. */
export function normalizeSerial(serial: string): string | undefined {
  const hex = serial.replaceAll(":", "").toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, "");
}

export function validateValidityDays(days: number, flag = "--days"): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_VALIDITY_DAYS) {
    throw new PkiError("ERR_PKI_INVALID_INPUT", `${flag} must be a whole number of days from 1 to ${MAX_VALIDITY_DAYS} (got ${days})`);
  }
  return days;
}

const SUBJECT_FLAGS: Record<keyof SubjectFields, string> = {
  commonName: "--cn",
  organization: "--org",
  organizationalUnit: "--ou",
  locality: "--locality",
  state: "--state",
  country: "--country",
};

export function validateSubject(subject: SubjectFields): void {
  if (subject.commonName.trim() === "") {
    throw new PkiError("ERR_PKI_INVALID_INPUT", "the CA subject needs a common name; pass --cn, such as --cn \"edgelock root CA\"");
  }
  for (const [field, flag] of Object.entries(SUBJECT_FLAGS) as [keyof SubjectFields, string][]) {
    const value = subject[field];
    if (value === undefined) continue;
    // Control characters would end up in the ALB's X-Amzn-Mtls-Clientcert-Issuer header.
    if (/[\u0000-\u001f\u007f]/.test(value) || value.length > 64) {
      throw new PkiError("ERR_PKI_INVALID_INPUT", `${flag} must be 1 to 64 characters without control characters (got ${JSON.stringify(value)})`);
    }
  }
  if (subject.country !== undefined && !/^[A-Z]{2}$/.test(subject.country)) {
    throw new PkiError("ERR_PKI_INVALID_INPUT", `--country must be a two-letter ISO 3166 code in capitals, such as "DE" (got "${subject.country}")`);
  }
}
