/**
 * The team domain's signing keys. Cloudflare signs Access tokens with RSA-2048 keys, publishes the current and the
 * previous key at /cdn-cgi/access/certs, and keeps a replaced key valid for 7 days after a rotation. This store
 * does the same in a folder: `signing-keys.json` lists the keys and their certificates, and each private key sits
 * in `<kid>.key.pem` with mode 0600. Reopening the folder restores the keys, so tokens survive a restart.
 */
import "reflect-metadata";
import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, randomSerialNumber } from "../../pki/index.ts";
import { writeFileAtomic, writePrivateFile } from "../../shared/fs-atomic.ts";
import { AccessError } from "../errors.ts";
import type { AccessJwks, SigningKey, SigningKeyStore } from "./types.ts";

const INDEX_FILE = "signing-keys.json";
const DAY_MS = 86_400_000;
const CERTIFICATE_DAYS = 1825;
const KID = /^[0-9a-f]{64}$/;

export interface SigningKeyOptions {
  /** Days a replaced key stays valid after `rotate()`. Default 7, as Cloudflare. */
  graceDays?: number;
  /** Clock for creation, rotation and grace periods. Default: the system clock. */
  now?: () => Date;
}

interface IndexEntry {
  kid: string;
  createdAt: string;
  retiredAt: string | null;
  certificate: string;
}

interface IndexFile {
  version: 1;
  keys: IndexEntry[];
}

/** Opens the signing keys in `dir`, creating the folder and a first key when there is none. */
export async function openSigningKeys(dir: string, options: SigningKeyOptions = {}): Promise<SigningKeyStore> {
  const graceDays = options.graceDays ?? 7;
  if (!Number.isFinite(graceDays) || graceDays < 0) {
    throw new AccessError("ERR_ACCESS_INVALID_INPUT", `graceDays must be a number of days of 0 or more (got ${graceDays})`);
  }
  const clock = options.now ?? (() => new Date());
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let keys = existsSync(join(dir, INDEX_FILE)) ? await readKeys(dir) : [];
  if (keys.length === 0) {
    const created = await createKey(clock());
    keys = [created.key];
    saveKeys(dir, keys, [], created.privateKeyPem);
  }

  const usable = (at: Date): SigningKey[] =>
    keys.filter((key) => key.retiredAt === undefined || key.retiredAt.getTime() + graceDays * DAY_MS > at.getTime());

  return {
    dir,
    graceDays,
    current: () => keys[0] as SigningKey,
    keys: () => usable(clock()),
    find: (kid) => usable(clock()).find((key) => key.kid === kid),
    jwks: () => toJwks(usable(clock())),
    async rotate(now = clock()) {
      const { key: fresh, privateKeyPem } = await createKey(now);
      const previous = keys.map((key) => (key.retiredAt === undefined ? { ...key, retiredAt: now } : key));
      const retained = [fresh, ...previous.filter((key) => (key.retiredAt as Date).getTime() + graceDays * DAY_MS > now.getTime())];
      const dropped = previous.filter((key) => !retained.includes(key));
      saveKeys(dir, retained, dropped, privateKeyPem);
      keys = retained;
      return fresh;
    },
  };
}

/** Returns the kid of a public key: SHA-256 of its DER SubjectPublicKeyInfo, lowercase hex. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

async function createKey(now: Date): Promise<{ key: SigningKey; privateKeyPem: string }> {
  const pair = await generateKeyPair("rsa-2048");
  const privateKeyPem = await exportPrivateKeyPem(pair.privateKey);
  const publicKey = createPublicKey(privateKeyPem);
  const kid = keyIdOf(publicKey);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: `CN=edgelock Access signing key ${kid.slice(0, 16)}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CERTIFICATE_DAYS * DAY_MS),
    keys: pair,
    signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  });
  const key: SigningKey = { ...publicParts(publicKey), kid, privateKey: pair.privateKey, certificatePem: certificate.toString("pem"), createdAt: now, retiredAt: undefined };
  return { key, privateKeyPem };
}

function publicParts(publicKey: KeyObject): { publicKey: KeyObject; n: string; e: string } {
  const jwk = publicKey.export({ format: "jwk" });
  return { publicKey, n: jwk.n as string, e: jwk.e as string };
}

/** Writes the new key's private key (mode 0600), then the index; `keys[0]` is the new key. */
function saveKeys(dir: string, keys: readonly SigningKey[], dropped: readonly SigningKey[], privateKeyPem: string): void {
  writePrivateFile(join(dir, `${(keys[0] as SigningKey).kid}.key.pem`), privateKeyPem);

  const index: IndexFile = {
    version: 1,
    keys: keys.map((key) => ({
      kid: key.kid,
      createdAt: key.createdAt.toISOString(),
      retiredAt: key.retiredAt === undefined ? null : key.retiredAt.toISOString(),
      certificate: key.certificatePem,
    })),
  };
  writeFileAtomic(join(dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);

  // Remove a dropped key's file only after the index no longer names it, so a crash never leaves a dangling entry.
  for (const key of dropped) rmSync(join(dir, `${key.kid}.key.pem`), { force: true });
}

async function readKeys(dir: string): Promise<SigningKey[]> {
  const path = join(dir, INDEX_FILE);
  const corrupt = (reason: string, cause?: unknown): AccessError =>
    new AccessError("ERR_SIGNING_KEYS_CORRUPT", `${path}: ${reason}; restore the folder from a backup or delete it to start with new keys`, {
      cause,
      kind: "internal",
    });

  let index: IndexFile;
  try {
    index = JSON.parse(readFileSync(path, "utf8")) as IndexFile;
  } catch (error) {
    throw corrupt("cannot be read as JSON", error);
  }
  if (index.version !== 1 || !Array.isArray(index.keys)) throw corrupt("has no version 1 key list");

  const keys: SigningKey[] = [];
  for (const entry of index.keys) {
    if (!KID.test(entry.kid)) throw corrupt(`lists an invalid kid "${entry.kid}"`);
    const keyFile = join(dir, `${entry.kid}.key.pem`);
    let pem: string;
    try {
      pem = readFileSync(keyFile, "utf8");
    } catch (error) {
      throw corrupt(`lists kid ${entry.kid}, but ${keyFile} cannot be read`, error);
    }

    const publicKey = createPublicKey(pem);
    if (keyIdOf(publicKey) !== entry.kid) throw corrupt(`${keyFile} does not hold the key of kid ${entry.kid}`);
    keys.push({
      ...publicParts(publicKey),
      kid: entry.kid,
      privateKey: await importPrivateKeyPem(pem),
      certificatePem: entry.certificate,
      createdAt: new Date(entry.createdAt),
      retiredAt: entry.retiredAt === null ? undefined : new Date(entry.retiredAt),
    });
  }
  return keys;
}

function toJwks(keys: readonly SigningKey[]): AccessJwks {
  const current = keys[0] as SigningKey;
  return {
    keys: keys.map((key) => ({ kid: key.kid, kty: "RSA", alg: "RS256", use: "sig", e: key.e, n: key.n })),
    public_cert: { kid: current.kid, cert: current.certificatePem },
    public_certs: keys.map((key) => ({ kid: key.kid, cert: key.certificatePem })),
  };
}
