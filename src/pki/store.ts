/**
 * The PKI state folder (default `.edgelock/pki`):
 *
 *   ca/cert.pem, ca/key.pem (0600)        root CA
 *   ca/retired/<serial>/{cert,key}.pem     CAs replaced by `init --force`, kept for rotation
 *   issued/<name>/{cert,key}.pem           current certificate of each name, key 0600
 *   crl.pem                                cumulative CRL of the current CA ("X509 CRL" PEM)
 *   bundle.pem                             CA bundle for the ALB trust store
 *   state.json                             index of every certificate ever issued, and the CRL number
 *
 * Every operation checks its input and builds every new file in memory before it writes anything, so an error
 * leaves the folder unchanged. The writes then go through the journal (journal.ts), state.json last.
 */
import "reflect-metadata";
import { hasCode } from "../shared/errors.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatBundle, validateBundle } from "./bundle.ts";
import { createRootCa, issueLeaf, type SubjectFields } from "./certificates.ts";
import { createCrl } from "./crl.ts";
import { PkiError } from "./errors.ts";
import { toCaInfo, toCertificateInfo, type CaInfo, type CertificateInfo } from "./info.ts";
import { commitFiles, recoverJournal, type PendingFile } from "./journal.ts";
import { droppedFromBundle, loadIssuer, readExtraCa, readStoreFile, retiredFiles, type PkiStorePaths } from "./folder-files.ts";
import { DEFAULT_KEY_TYPE, isSlowKeyType, parseKeyType, type KeyType } from "./keys.ts";
import { formatState, readState, STATE_VERSION, type CaRecord, type CertificateRecord, type PkiState } from "./state.ts";
import { addDays, currentRecord, describe, findRecord, normalizePem } from "./records.ts";
import { validateName, validateSubject, validateValidityDays } from "./validation.ts";

/** Backdating of notBefore, so a peer whose clock is slightly behind still accepts a fresh certificate. */
const CLOCK_SKEW_MS = 60_000;

export const DEFAULT_PKI_DIR = ".edgelock/pki";
export const DEFAULT_CA_VALIDITY_DAYS = 1825;
export const DEFAULT_LEAF_VALIDITY_DAYS = 730;
export const DEFAULT_CRL_NEXT_UPDATE_DAYS = 30;

export type { PkiStorePaths };

export interface InitOptions {
  subject: SubjectFields;
  /** Key type of the CA key, such as "ecdsa-p256" or "rsa-4096". Default "ecdsa-p256". */
  keyType?: string;
  /** Validity in days. Default 1825 (5 years). */
  validityDays?: number;
  /** Replace an existing CA; the old one is kept under ca/retired/<serial>/. Default false. */
  force?: boolean;
  /** Current time. Default: the system clock. */
  now?: Date;
}

export interface IssueOptions {
  /** DNS names for the subject alternative names (server certificates only). */
  dnsNames?: string[];
  /** IP addresses for the subject alternative names (server certificates only). */
  ipAddresses?: string[];
  /** Key type, such as "ecdsa-p256" or "rsa-2048". Default "ecdsa-p256". */
  keyType?: string;
  /** Validity in days; must end before the CA expires. Default 730 (2 years). */
  validityDays?: number;
  /** Replace a certificate of the same name that is not revoked. Default false. */
  force?: boolean;
  now?: Date;
}

export interface StoreOptions {
  /** Called before slow steps (RSA key generation above 2048 bits) with a line for the user. */
  onProgress?: (message: string) => void;
}

export interface PkiStore {
  readonly paths: PkiStorePaths;
  hasCa(): boolean;
  init(options: InitOptions): Promise<CaInfo>;
  issue(profile: "client" | "server", name: string, options?: IssueOptions): Promise<CertificateInfo>;
  revoke(nameOrSerial: string, options?: { now?: Date }): Promise<CertificateInfo>;
  writeCrl(options?: { now?: Date; nextUpdateDays?: number }): Promise<{ path: string; pem: string; number: number }>;
  writeBundle(options?: { extraCaFiles?: string[] }): Promise<{ path: string; pem: string; dropped: string[] }>;
  /** Every certificate ever issued, oldest first. */
  list(now?: Date): CertificateInfo[];
  ca(now?: Date): CaInfo;
  readCertificate(name: string): { certificatePem: string; privateKeyPem: string; info: CertificateInfo };
}

/** Opens the state folder at `dir`; nothing is read or written until an operation runs. */
export function openPkiStore(dir: string, options: StoreOptions = {}): PkiStore {
  return new FolderStore(dir, options);
}

class FolderStore implements PkiStore {
  readonly paths: PkiStorePaths;
  readonly #onProgress: (message: string) => void;

  constructor(dir: string, options: StoreOptions) {
    this.paths = {
      dir,
      state: join(dir, "state.json"),
      caCert: join(dir, "ca", "cert.pem"),
      caKey: join(dir, "ca", "key.pem"),
      crl: join(dir, "crl.pem"),
      bundle: join(dir, "bundle.pem"),
      certificate: (name) => join(dir, "issued", name, "cert.pem"),
      key: (name) => join(dir, "issued", name, "key.pem"),
    };
    this.#onProgress = options.onProgress ?? (() => {});
  }

  hasCa(): boolean {
    recoverJournal(this.paths.dir);
    return readState(this.paths.state) !== undefined;
  }

  async init(options: InitOptions): Promise<CaInfo> {
    recoverJournal(this.paths.dir);
    const now = options.now ?? new Date();
    const force = options.force === true;
    const previous = this.#readStateForInit(force);
    if (previous === undefined && existsSync(this.paths.caCert) && !force) {
      throw new PkiError(
        "ERR_PKI_STATE_CORRUPT",
        `${this.paths.caCert} exists but ${this.paths.state} is missing; restore state.json from a backup, or pass --force to start a new CA`,
      );
    }
    if (previous !== undefined && !force) {
      throw new PkiError(
        "ERR_PKI_CA_EXISTS",
        `a root CA already exists in ${this.paths.dir} (${previous.ca.subject}, serial ${previous.ca.serial}); pass --force to replace it, which keeps the old one under ca/retired/`,
      );
    }

    validateSubject(options.subject);
    const keyType = parseKeyType(options.keyType ?? DEFAULT_KEY_TYPE);
    const validityDays = validateValidityDays(options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS);
    const retired = retiredFiles(this.paths, now);

    this.#announceKeyGeneration(keyType, "root CA");
    const ca = await createRootCa(options.subject, { keyType, validityDays, notBefore: new Date(now.getTime() - CLOCK_SKEW_MS) });
    const record: CaRecord = { ...describe(ca), keyType, createdAt: now.toISOString() };
    const state: PkiState = {
      version: STATE_VERSION,
      ca: record,
      retiredCas: previous === undefined ? [] : [...previous.retiredCas, previous.ca],
      crlNumber: (previous?.crlNumber ?? 0) + 1,
      certificates: previous?.certificates ?? [],
    };
    const crl = await createCrl(ca, [], { number: state.crlNumber, thisUpdate: now, nextUpdate: addDays(now, DEFAULT_CRL_NEXT_UPDATE_DAYS) });
    const bundle = formatBundle([ca.certificatePem]);
    validateBundle(bundle, { source: this.paths.bundle });

    commitFiles(this.paths.dir, [
      ...retired,
      { path: "ca/key.pem", content: ca.privateKeyPem, private: true },
      { path: "ca/cert.pem", content: normalizePem(ca.certificatePem), private: false },
      { path: "crl.pem", content: crl.pem, private: false },
      { path: "bundle.pem", content: bundle, private: false },
      this.#stateFile(state),
    ]);
    return toCaInfo(record, this.paths.caCert, now);
  }

  async issue(profile: "client" | "server", name: string, options: IssueOptions = {}): Promise<CertificateInfo> {
    recoverJournal(this.paths.dir);
    const now = options.now ?? new Date();
    const state = this.#requireState();
    if (profile !== "client" && profile !== "server") {
      throw new PkiError("ERR_PKI_INVALID_INPUT", `certificate profile "${String(profile)}" is invalid; use "client" or "server"`);
    }
    validateName(name);

    const current = currentRecord(state, name);
    if (current !== undefined && current.revokedAt === undefined && options.force !== true) {
      throw new PkiError(
        "ERR_PKI_NAME_CLASH",
        `a certificate named "${name}" already exists (serial ${current.serial}, valid until ${current.notAfter}); revoke it first with "edgelock pki revoke ${name}", or pass --force to replace it`,
      );
    }
    const dnsNames = options.dnsNames ?? [];
    const ipAddresses = options.ipAddresses ?? [];
    if (profile === "client" && dnsNames.length + ipAddresses.length > 0) {
      throw new PkiError("ERR_PKI_INVALID_INPUT", "--dns and --ip apply only to server certificates; drop them for a client certificate");
    }
    const keyType = parseKeyType(options.keyType ?? DEFAULT_KEY_TYPE);
    const validityDays = validateValidityDays(options.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS);
    const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
    const notAfter = addDays(notBefore, validityDays);
    if (notAfter.getTime() > Date.parse(state.ca.notAfter)) {
      throw new PkiError(
        "ERR_PKI_INVALID_INPUT",
        `a ${validityDays}-day certificate would outlive the root CA, which expires on ${state.ca.notAfter}; pass a smaller --days, or start a new CA with "edgelock pki init --force"`,
      );
    }

    const issuer = await loadIssuer(this.paths, state);
    this.#announceKeyGeneration(keyType, `"${name}"`);
    const leaf = await issueLeaf(issuer, {
      profile,
      subject: { commonName: name, organization: issuer.certificate.subjectName.getField("O")[0] },
      keyType,
      validityDays,
      notBefore,
      dnsNames,
      ipAddresses,
    });
    const record: CertificateRecord = {
      name,
      profile,
      ...describe(leaf),
      issuer: issuer.certificate.subject,
      issuerSerial: state.ca.serial,
      keyType,
      dnsNames: dnsNames.map((dns) => dns.toLowerCase()),
      ipAddresses,
      issuedAt: now.toISOString(),
    };
    const certificates = state.certificates.map((entry) => (entry === current ? { ...entry, replacedAt: now.toISOString() } : entry));
    certificates.push(record);

    commitFiles(this.paths.dir, [
      { path: `issued/${name}/key.pem`, content: leaf.privateKeyPem, private: true },
      { path: `issued/${name}/cert.pem`, content: normalizePem(leaf.certificatePem), private: false },
      this.#stateFile({ ...state, certificates }),
    ]);
    return toCertificateInfo(record, now);
  }

  async revoke(nameOrSerial: string, options: { now?: Date } = {}): Promise<CertificateInfo> {
    recoverJournal(this.paths.dir);
    const now = options.now ?? new Date();
    const state = this.#requireState();
    const target = findRecord(state, nameOrSerial);
    if (target === undefined) {
      throw new PkiError("ERR_PKI_NOT_FOUND", `no certificate named or with serial "${nameOrSerial}" in ${this.paths.dir}; run "edgelock pki list" to see names and serials`);
    }
    if (target.revokedAt !== undefined) {
      throw new PkiError("ERR_PKI_ALREADY_REVOKED", `certificate "${target.name}" (serial ${target.serial}) was already revoked at ${target.revokedAt}; nothing to do`);
    }
    if (target.issuerSerial !== state.ca.serial) {
      throw new PkiError(
        "ERR_PKI_INVALID_INPUT",
        `certificate "${target.name}" (serial ${target.serial}) was issued by the replaced CA with serial ${target.issuerSerial}, so the current CA's CRL cannot revoke it; remove that CA from the bundle instead`,
      );
    }

    const revoked: CertificateRecord = { ...target, revokedAt: now.toISOString() };
    const next: PkiState = { ...state, certificates: state.certificates.map((entry) => (entry === target ? revoked : entry)) };
    const crl = await this.#buildCrl(next, now, DEFAULT_CRL_NEXT_UPDATE_DAYS);
    commitFiles(this.paths.dir, [{ path: "crl.pem", content: crl.pem, private: false }, this.#stateFile(crl.state)]);
    return toCertificateInfo(revoked, now);
  }

  async writeCrl(options: { now?: Date; nextUpdateDays?: number } = {}): Promise<{ path: string; pem: string; number: number }> {
    recoverJournal(this.paths.dir);
    const now = options.now ?? new Date();
    const state = this.#requireState();
    const nextUpdateDays = validateValidityDays(options.nextUpdateDays ?? DEFAULT_CRL_NEXT_UPDATE_DAYS);

    const crl = await this.#buildCrl(state, now, nextUpdateDays);
    commitFiles(this.paths.dir, [{ path: "crl.pem", content: crl.pem, private: false }, this.#stateFile(crl.state)]);
    return { path: this.paths.crl, pem: crl.pem, number: crl.state.crlNumber };
  }

  async writeBundle(options: { extraCaFiles?: string[] } = {}): Promise<{ path: string; pem: string; dropped: string[] }> {
    recoverJournal(this.paths.dir);
    this.#requireState();
    const caPem = readStoreFile(this.paths.caCert);
    const extras = (options.extraCaFiles ?? []).map((file) => readExtraCa(file));

    const pem = formatBundle([caPem, ...extras]);
    validateBundle(pem, { source: this.paths.bundle });
    const dropped = droppedFromBundle(this.paths, pem);
    commitFiles(this.paths.dir, [{ path: "bundle.pem", content: pem, private: false }]);
    return { path: this.paths.bundle, pem, dropped };
  }

  list(now = new Date()): CertificateInfo[] {
    recoverJournal(this.paths.dir);
    return this.#requireState().certificates.map((record) => toCertificateInfo(record, now));
  }

  ca(now = new Date()): CaInfo {
    recoverJournal(this.paths.dir);
    return toCaInfo(this.#requireState().ca, this.paths.caCert, now);
  }

  readCertificate(name: string): { certificatePem: string; privateKeyPem: string; info: CertificateInfo } {
    recoverJournal(this.paths.dir);
    validateName(name);
    const record = currentRecord(this.#requireState(), name);
    if (record === undefined) {
      throw new PkiError("ERR_PKI_NOT_FOUND", `no certificate named "${name}" in ${this.paths.dir}; issue one with "edgelock pki issue client ${name}"`);
    }
    const certificatePem = readStoreFile(this.paths.certificate(name));
    const privateKeyPem = readStoreFile(this.paths.key(name));
    return { certificatePem, privateKeyPem, info: toCertificateInfo(record, new Date()) };
  }

  #requireState(): PkiState {
    const state = readState(this.paths.state);
    if (state === undefined) {
      throw new PkiError("ERR_PKI_NO_CA", `no root CA in ${this.paths.dir}; run "edgelock pki init" first (or pass --dir to use another folder)`);
    }
    return state;
  }

  #stateFile(state: PkiState): PendingFile {
    return { path: "state.json", content: formatState(state), private: false };
  }

  /** Builds the cumulative CRL of the current CA with the next CRL number. */
  async #buildCrl(state: PkiState, now: Date, nextUpdateDays: number): Promise<{ pem: string; state: PkiState }> {
    const issuer = await loadIssuer(this.paths, state);
    // A revoked certificate stays listed until it expires; after that no verifier accepts it anyway.
    const entries = state.certificates
      .filter((record) => record.revokedAt !== undefined && record.issuerSerial === state.ca.serial && Date.parse(record.notAfter) > now.getTime())
      .map((record) => ({ serialNumber: record.serial, revokedAt: new Date(record.revokedAt as string) }));
    const crlNumber = state.crlNumber + 1;
    const crl = await createCrl(issuer, entries, { number: crlNumber, thisUpdate: now, nextUpdate: addDays(now, nextUpdateDays) });
    return { pem: crl.pem, state: { ...state, crlNumber } };
  }

  /**
   * Reads state.json for `init`. With `force`, a corrupt state file counts as absent, because `init --force` is
   * the documented way out of it, and `retiredFiles` keeps a copy.
   */
  #readStateForInit(force: boolean): PkiState | undefined {
    try {
      return readState(this.paths.state);
    } catch (error) {
      if (force && hasCode(error, "ERR_PKI_STATE_CORRUPT")) return undefined;
      throw error;
    }
  }

  #announceKeyGeneration(keyType: KeyType, purpose: string): void {
    if (isSlowKeyType(keyType)) this.#onProgress(`generating ${keyType} key for ${purpose}; this can take several seconds`);
  }
}
