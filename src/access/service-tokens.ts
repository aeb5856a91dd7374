/**
 * Service tokens: Cloudflare issues a Client ID (`<32 hex>.access`) and a Client Secret (64 hex) that CI jobs and
 * monitors send as CF-Access-Client-Id / CF-Access-Client-Secret. The secret is shown once, at creation. This store
 * keeps only SHA-256 over a per-token random salt and the secret, which is enough because the secret is a 256-bit
 * random value, and compares hashes with timingSafeEqual. Expired tokens fail verification, and revoking deletes.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { AccessError } from "./errors.ts";

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ONE_YEAR_SECONDS = 8760 * 3600;

/** A stored token without its secret. */
export interface ServiceTokenRecord {
  name: string;
  clientId: string;
  createdAt: Date;
  expiresAt: Date;
  /** True once `expiresAt` has passed at the time of `list()`. */
  expired: boolean;
}

/** The result of `create()`, the only place the secret ever appears. */
export interface CreatedServiceToken {
  name: string;
  /** `<32 hex>.access` */
  clientId: string;
  /** 64 hex characters; never stored. */
  clientSecret: string;
  expiresAt: Date;
}

export interface CreateOptions {
  /** Lifetime in seconds. Default 31536000 (8760h, Cloudflare's default). */
  durationSeconds?: number;
  /** Creation time. Default: now. */
  now?: Date;
}

/** The service tokens in one JSON file (mode 0600). Changes by another process are picked up on the next call. */
export interface ServiceTokenStore {
  readonly file: string;
  /** Creates a token; throws ERR_SERVICE_TOKEN_EXISTS when the name is taken. */
  create(name: string, options?: CreateOptions): CreatedServiceToken;
  /** Returns the token's name when the Client ID and Secret match an unexpired token, else undefined. */
  verify(clientId: string, clientSecret: string, now?: Date): { name: string } | undefined;
  /** Lists the tokens, without secrets, in creation order. */
  list(now?: Date): ServiceTokenRecord[];
  /** Deletes the token with this name; returns false when there was none. */
  revoke(name: string): boolean;
}

interface StoredToken {
  name: string;
  clientId: string;
  /** 16 random bytes, hex. */
  salt: string;
  /** SHA-256 of salt bytes followed by the UTF-8 secret, hex. */
  secretHash: string;
  createdAt: string;
  expiresAt: string;
}

interface StoreFile {
  version: 1;
  tokens: StoredToken[];
}

/** Opens the service-token file; a missing file is an empty store, created on the first `create()`. */
export function openServiceTokenStore(file: string): ServiceTokenStore {
  let tokens: StoredToken[] = [];
  let seen = "";

  const refresh = (): void => {
    const signature = existsSync(file) ? fileSignature(file) : "missing";
    if (signature === seen) return;
    tokens = signature === "missing" ? [] : readTokens(file);
    seen = signature;
  };
  const save = (next: StoredToken[]): void => {
    const content: StoreFile = { version: 1, tokens: next };
    writeFileAtomic(file, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
    tokens = next;
    seen = fileSignature(file);
  };

  return {
    file,
    create(name, options = {}) {
      refresh();
      if (!NAME.test(name)) throw new AccessError("ERR_ACCESS_INVALID_INPUT", `service token name must be lowercase letters, digits and "-" (got "${name}")`);
      if (tokens.some((token) => token.name === name)) {
        throw new AccessError("ERR_SERVICE_TOKEN_EXISTS", `a service token named "${name}" exists; revoke it first or pick another name`);
      }
      const duration = options.durationSeconds ?? ONE_YEAR_SECONDS;
      if (!Number.isInteger(duration) || duration <= 0) {
        throw new AccessError("ERR_ACCESS_INVALID_INPUT", `durationSeconds must be a positive whole number of seconds (got ${duration})`);
      }

      const now = options.now ?? new Date();
      const clientId = `${randomBytes(16).toString("hex")}.access`;
      const clientSecret = randomBytes(32).toString("hex");
      const salt = randomBytes(16).toString("hex");
      const expiresAt = new Date(now.getTime() + duration * 1000);
      const stored: StoredToken = { name, clientId, salt, secretHash: hashSecret(salt, clientSecret), createdAt: now.toISOString(), expiresAt: expiresAt.toISOString() };
      save([...tokens, stored]);
      return { name, clientId, clientSecret, expiresAt };
    },
    verify(clientId, clientSecret, now = new Date()) {
      refresh();
      const token = tokens.find((candidate) => candidate.clientId === clientId);
      // Hash even for an unknown id, so the response time does not tell which ids exist.
      const expected = Buffer.from(token?.secretHash ?? "0".repeat(64), "hex");
      const actual = Buffer.from(hashSecret(token?.salt ?? "00", clientSecret), "hex");
      const matches = timingSafeEqual(expected, actual);
      if (token === undefined || !matches || Date.parse(token.expiresAt) <= now.getTime()) return undefined;
      return { name: token.name };
    },
    list(now = new Date()) {
      refresh();
      return tokens.map((token) => ({
        name: token.name,
        clientId: token.clientId,
        createdAt: new Date(token.createdAt),
        expiresAt: new Date(token.expiresAt),
        expired: Date.parse(token.expiresAt) <= now.getTime(),
      }));
    },
    revoke(name) {
      refresh();
      if (!tokens.some((token) => token.name === name)) return false;
      save(tokens.filter((token) => token.name !== name));
      return true;
    },
  };
}

function hashSecret(saltHex: string, secret: string): string {
  return createHash("sha256").update(Buffer.from(saltHex, "hex")).update(secret, "utf8").digest("hex");
}

function fileSignature(file: string): string {
  const stats = statSync(file);
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

function readTokens(file: string): StoredToken[] {
  let content: StoreFile;
  try {
    content = JSON.parse(readFileSync(file, "utf8")) as StoreFile;
  } catch (error) {
    throw new AccessError("ERR_SERVICE_TOKEN_STORE_CORRUPT", `${file} cannot be read as JSON; restore it or delete it (every token is then gone)`, { cause: error, kind: "internal" });
  }
  if (content.version !== 1 || !Array.isArray(content.tokens)) {
    throw new AccessError("ERR_SERVICE_TOKEN_STORE_CORRUPT", `${file} has no version 1 token list; restore it or delete it (every token is then gone)`, { kind: "internal" });
  }
  return content.tokens;
}
