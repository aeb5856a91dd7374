/** Identity values inside tokens: the per-user `sub` UUID and the 16-character `identity_nonce`. */
import { createHash, randomBytes } from "node:crypto";
import { issuerFor } from "../team-domain.ts";

/** RFC 4122 namespace for URLs, used to derive one namespace per team domain. */
const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Computes a name-based (version 5, SHA-1) UUID of `name` in `namespace`, as RFC 4122 §4.3 describes. */
export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll("-", ""), "hex");
  const hash = createHash("sha1").update(namespaceBytes).update(name, "utf8").digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Returns the `sub` of a user: a version 5 UUID of the lowercase email in a namespace derived from the team
 * domain. Like Cloudflare's user id it is stable per email and differs between organizations.
 */
export function subjectForEmail(email: string, teamDomain: string): string {
  return uuidV5(uuidV5(URL_NAMESPACE, issuerFor(teamDomain)), email.toLowerCase());
}

/** Returns a random `identity_nonce`: 16 characters from [A-Za-z0-9], without modulo bias. */
export function identityNonce(): string {
  let nonce = "";
  while (nonce.length < 16) {
    for (const byte of randomBytes(32)) {
      // 248 = 4 × 62: bytes at or above it are dropped so every character is equally likely.
      if (byte < 248 && nonce.length < 16) nonce += NONCE_ALPHABET[byte % 62];
    }
  }
  return nonce;
}
