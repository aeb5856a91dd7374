/**
 * Files of the state folder that several operations read: the CA certificate and key, copies kept by
 * `init --force`, and CA files given to `bundle --add`. Every read failure is a PkiError naming the file.
 */
import "reflect-metadata";
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as x509 from "@peculiar/x509";
import { formatBundle, validateBundle } from "./bundle.ts";
import type { Issuer } from "./certificates.ts";
import { PkiError } from "./errors.ts";
import type { PendingFile } from "./journal.ts";
import { importPrivateKeyPem } from "./keys.ts";
import { readState, type PkiState } from "./state.ts";

export interface PkiStorePaths {
  dir: string;
  state: string;
  caCert: string;
  caKey: string;
  crl: string;
  bundle: string;
  certificate(name: string): string;
  key(name: string): string;
}

/** Reads a file of the state folder; a missing or unreadable file is ERR_PKI_STATE_CORRUPT. */
export function readStoreFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new PkiError("ERR_PKI_STATE_CORRUPT", `${path} cannot be read (${(error as Error).message}); restore it from a backup, or replace the CA with "edgelock pki init --force"`, {
      cause: error,
    });
  }
}

/** Reads the CA certificate and key and checks that they match each other and state.json. */
export async function loadIssuer(paths: PkiStorePaths, state: PkiState): Promise<Issuer> {
  const certificatePem = readStoreFile(paths.caCert);
  const keyPem = readStoreFile(paths.caKey);
  const corrupt = (problem: string, cause?: unknown) =>
    new PkiError("ERR_PKI_STATE_CORRUPT", `${problem}; restore the CA files from a backup, or replace the CA with "edgelock pki init --force"`, { cause });

  let certificate: x509.X509Certificate;
  let nodeCertificate: NodeX509Certificate;
  try {
    certificate = new x509.X509Certificate(certificatePem);
    nodeCertificate = new NodeX509Certificate(certificatePem);
  } catch (error) {
    throw corrupt(`${paths.caCert} is not a valid PEM certificate (${(error as Error).message})`, error);
  }
  if (nodeCertificate.serialNumber.replace(/^0+(?=.)/, "") !== state.ca.serial.replace(/^0+(?=.)/, "")) {
    throw corrupt(`${paths.caCert} has serial ${nodeCertificate.serialNumber}, but ${paths.state} records ${state.ca.serial}`);
  }

  let matches: boolean;
  try {
    const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: "spki", format: "der" });
    matches = fromKey.equals(nodeCertificate.publicKey.export({ type: "spki", format: "der" }));
  } catch (error) {
    throw corrupt(`${paths.caKey} is not a valid PEM private key (${(error as Error).message})`, error);
  }
  if (!matches) throw corrupt(`${paths.caKey} does not belong to ${paths.caCert}`);

  return { certificate, privateKey: await importPrivateKeyPem(keyPem) };
}

/**
 * Returns copies of the files `init --force` replaces: the CA under ca/retired/<serial>/, and a state.json
 * that cannot be read as ca/retired/state-<time>.json, so a CA replaced by mistake can be restored.
 */
export function retiredFiles(paths: PkiStorePaths, now: Date): PendingFile[] {
  const files: PendingFile[] = [];
  const stamp = now.toISOString().replaceAll(/[:.]/g, "-").toLowerCase();
  if (existsSync(paths.caCert)) {
    const certificatePem = readStoreFile(paths.caCert);
    let folder: string;
    try {
      folder = `ca/retired/${new NodeX509Certificate(certificatePem).serialNumber.toLowerCase()}`;
    } catch {
      // A CA certificate that cannot be parsed is still kept, under the time instead of its serial.
      folder = `ca/retired/unreadable-${stamp}`;
    }
    files.push({ path: `${folder}/cert.pem`, content: certificatePem, private: false });
    if (existsSync(paths.caKey)) files.push({ path: `${folder}/key.pem`, content: readStoreFile(paths.caKey), private: true });
  }
  if (existsSync(paths.state)) {
    let readable = true;
    try {
      readState(paths.state);
    } catch {
      readable = false;
    }
    if (!readable) files.push({ path: `ca/retired/state-${stamp}.json`, content: readStoreFile(paths.state), private: false });
  }
  return files;
}

/** Returns the subjects of CAs in the current bundle.pem that `pem` leaves out. */
export function droppedFromBundle(paths: PkiStorePaths, pem: string): string[] {
  if (!existsSync(paths.bundle)) return [];
  let previous: x509.X509Certificate[];
  try {
    previous = validateBundle(readFileSync(paths.bundle, "utf8")).certificates;
  } catch {
    // An unreadable old bundle is being replaced, which is what the caller asked for.
    return [];
  }
  const kept = new Set(validateBundle(pem).certificates.map((certificate) => certificate.toString("base64")));
  return previous.filter((certificate) => !kept.has(certificate.toString("base64"))).map((certificate) => certificate.subject);
}

/** Reads a CA file given to `bundle --add` and returns its certificates as bundle PEM; each must be a CA. */
export function readExtraCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new PkiError("ERR_PKI_INVALID_INPUT", `CA file ${file} for --add cannot be read (${(error as Error).message})`, { cause: error });
  }

  let pem: string;
  try {
    pem = formatBundle([text]);
  } catch (error) {
    throw new PkiError("ERR_PKI_BUNDLE", `CA file ${file}: ${(error as Error).message.replace(/^input 1 of the bundle /, "")}`, { cause: error });
  }
  for (const certificate of validateBundle(pem, { source: file }).certificates) {
    const constraints = certificate.getExtension(x509.BasicConstraintsExtension);
    if (constraints?.ca !== true) {
      throw new PkiError("ERR_PKI_BUNDLE", `CA file ${file} contains "${certificate.subject}", which is not a CA certificate (no basicConstraints CA:TRUE); add only CA certificates to the bundle`);
    }
  }
  return pem;
}
