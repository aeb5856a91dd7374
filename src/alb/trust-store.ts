/**
 * The listener's trust store. On AWS a trust store is a CA bundle from S3 plus CRLs added as revocations, and
 * editing the S3 objects changes nothing until ModifyTrustStore or a new revocation. We copy that, so a TrustStore
 * is an immutable snapshot of the files and the listener swaps it only on `reloadTrustStore()`.
 */
import { readFileSync } from "node:fs";
import { validateBundle } from "../pki/bundle.ts";
import { AlbError } from "./errors.ts";
import { parseCertificate, type CertificateInfo } from "./mtls/certificate-info.ts";
import { parseRevocationList, type RevocationList } from "./revocation.ts";

/** An immutable snapshot of the CA bundle and the CRLs. */
export interface TrustStore {
  /** The CA certificates in bundle order. */
  readonly certificates: readonly CertificateInfo[];
  /** The CA certificates as PEM, for the TLS `ca` option when CA names are advertised. */
  readonly certificatePems: readonly string[];
  readonly revocationLists: readonly RevocationList[];
  /** When the snapshot was taken. */
  readonly loadedAt: Date;
  /** Returns true when a CRL of the store lists the certificate's (issuer, serial) pair. */
  isRevoked(certificate: CertificateInfo): boolean;
  /** Returns the CRLs signed by the CA with this fingerprint. */
  revocationListsOf(issuerFingerprint: string): readonly RevocationList[];
  /** Returns true when the store contains this exact certificate. */
  contains(certificate: CertificateInfo): boolean;
}

export interface TrustStoreText {
  /** The CA bundle's text. */
  bundle: string;
  /** Each CRL's PEM text. */
  crls?: string[];
  /** Names of the sources in error messages, such as file paths. Default "CA bundle" and "CRL <n>". */
  bundleSource?: string;
  crlSources?: string[];
}

export interface LoadTrustStoreOptions {
  /** Path of the PEM CA bundle. */
  bundleFile: string;
  /** Paths of PEM CRLs ("BEGIN X509 CRL"). Default none. */
  crlFiles?: string[];
}

/**
 * Builds a trust store from text. Throws PkiError ERR_PKI_BUNDLE for a bundle that breaks the ALB's format rules
 * and AlbError ERR_ALB_REVOCATION for a CRL the ALB would reject.
 */
export function createTrustStore(input: TrustStoreText): TrustStore {
  const bundleSource = input.bundleSource ?? "CA bundle";
  const { pems } = validateBundle(input.bundle, { source: bundleSource });
  const certificates = pems.map((pem) => parseCertificate(Buffer.from(pem)));

  const revocationLists = (input.crls ?? []).map((text, index) =>
    parseRevocationList(text, input.crlSources?.[index] ?? `CRL ${index + 1}`, certificates),
  );
  const revokedPairs = new Set<string>();
  for (const list of revocationLists) {
    for (const serial of list.serialNumbers) revokedPairs.add(`${list.issuer}\n${serial}`);
  }
  const fingerprints = new Set(certificates.map((certificate) => certificate.fingerprint));

  return Object.freeze({
    certificates: Object.freeze(certificates),
    certificatePems: Object.freeze(pems),
    revocationLists: Object.freeze(revocationLists),
    loadedAt: new Date(),
    isRevoked: (certificate: CertificateInfo) => revokedPairs.has(`${certificate.issuer}\n${certificate.serialNumber}`),
    revocationListsOf: (issuerFingerprint: string) => revocationLists.filter((list) => list.issuerFingerprint === issuerFingerprint),
    contains: (certificate: CertificateInfo) => fingerprints.has(certificate.fingerprint),
  });
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new AlbError("ERR_ALB_FILE", `${what} "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path in the configuration`, { cause: error });
  }
}

/** Reads the bundle and CRL files once and returns their snapshot; later edits need a new call. */
export function loadTrustStore(options: LoadTrustStoreOptions): TrustStore {
  const crlFiles = options.crlFiles ?? [];
  return createTrustStore({
    bundle: readText(options.bundleFile, "CA bundle"),
    bundleSource: options.bundleFile,
    crls: crlFiles.map((file) => readText(file, "CRL file")),
    crlSources: crlFiles,
  });
}
