/**
 * The index of a PKI state folder, `state.json`: the root CA, every certificate ever issued (replaced and revoked
 * ones included) and the last CRL number used. It is written last in every change, so it is the commit point.
 */
import { existsSync, readFileSync } from "node:fs";
import { z } from "zod";
import { describeIssues } from "../config/load.ts";
import { PkiError } from "./errors.ts";
import { KEY_TYPES } from "./keys.ts";

/** Version of the state.json format; a file with another version is rejected. */
export const STATE_VERSION = 1;

const isoDate = z.iso.datetime();
const serial = z.string().regex(/^[0-9A-F]+$/, { message: "must be uppercase hex" });

const caRecordSchema = z.strictObject({
  serial,
  subject: z.string(),
  notBefore: isoDate,
  notAfter: isoDate,
  keyType: z.enum(KEY_TYPES),
  createdAt: isoDate,
});

const certificateRecordSchema = z.strictObject({
  name: z.string(),
  profile: z.enum(["client", "server"]),
  serial,
  subject: z.string(),
  issuer: z.string(),
  /** Serial of the CA that signed it, to tell certificates of a replaced CA apart. */
  issuerSerial: serial,
  notBefore: isoDate,
  notAfter: isoDate,
  keyType: z.enum(KEY_TYPES),
  dnsNames: z.array(z.string()),
  ipAddresses: z.array(z.string()),
  issuedAt: isoDate,
  revokedAt: isoDate.optional(),
  /** Set when a later certificate took over the name, so this one's files were overwritten. */
  replacedAt: isoDate.optional(),
});

const stateSchema = z.strictObject({
  version: z.literal(STATE_VERSION),
  ca: caRecordSchema,
  /** CA certificates replaced by `init --force`, kept under ca/retired/<serial>/. */
  retiredCas: z.array(caRecordSchema),
  /** The last CRL number written; the next CRL uses a larger one. */
  crlNumber: z.number().int().min(0),
  certificates: z.array(certificateRecordSchema),
});

export type CaRecord = z.infer<typeof caRecordSchema>;
export type CertificateRecord = z.infer<typeof certificateRecordSchema>;
export type PkiState = z.infer<typeof stateSchema>;

/** Reads state.json; returns undefined when the file does not exist. Throws ERR_PKI_STATE_CORRUPT otherwise. */
export function readState(path: string): PkiState | undefined {
  if (!existsSync(path)) return undefined;

  const fix = "restore it from a backup, or start a new CA with \"edgelock pki init --force\"";
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new PkiError("ERR_PKI_STATE_CORRUPT", `PKI state file ${path} is not valid JSON (${(error as Error).message}); ${fix}`, { cause: error });
  }

  const result = stateSchema.safeParse(input);
  if (!result.success) {
    const problems = describeIssues(result.error);
    throw new PkiError("ERR_PKI_STATE_CORRUPT", `PKI state file ${path} is invalid: ${problems.slice(0, 3).join("; ")}; ${fix}`);
  }
  return result.data;
}

/** Serializes the state as state.json text. */
export function formatState(state: PkiState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
