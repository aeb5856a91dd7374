/**
 * One-time PIN logins. Cloudflare mails a PIN only when a policy could allow the address, yet the page always
 * states that one was sent. The PIN expires 10 minutes after the request (developers.cloudflare.com/
 * cloudflare-one/integrations/identity-providers/one-time-pin/). Length, attempt limit and lifetime are settings here. Only an
 * HMAC of each PIN is kept, under a key that lives in memory for the life of the process.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

export interface PinSettings {
  /** Digits per PIN. */
  length: number;
  /** Seconds a PIN stays valid after it was requested. */
  ttlSeconds: number;
  /** Wrong PINs after which the login is locked. */
  maxAttempts: number;
  /** Pending logins kept at most; the oldest go first. Default 10000. */
  maxPending?: number;
}

/** A login waiting for its PIN. `data` carries what the login flow needs afterwards. */
export interface PendingLogin<Data> {
  /** Random id, sent in the PIN form. */
  id: string;
  email: string;
  /** Value of the CF_Session cookie the login is bound to. */
  binding: string;
  data: Data;
  expiresAt: number;
  attempts: number;
  /** HMAC of the PIN; undefined when no PIN was sent, so every PIN is wrong. */
  pinHash: Buffer | undefined;
  done: boolean;
}

export type PinCheck<Data> =
  | { result: "ok"; login: PendingLogin<Data> }
  | { result: "wrong" | "expired" | "locked"; login: PendingLogin<Data> }
  | { result: "unknown" };

export interface PinStore<Data> {
  /** Starts a login; returns its id and, when `send` is true, the PIN to mail. */
  start(email: string, binding: string, data: Data, send: boolean, now: Date): { id: string; pin: string | undefined };
  /** Checks a submitted PIN; a correct PIN ends the login so it cannot be used twice. */
  check(id: string, binding: string, pin: string, now: Date): PinCheck<Data>;
}

/** Creates an in-memory PIN store. */
export function createPinStore<Data>(settings: PinSettings): PinStore<Data> {
  const key = randomBytes(32);
  const pending = new Map<string, PendingLogin<Data>>();
  const maxPending = settings.maxPending ?? 10_000;
  const hash = (id: string, pin: string): Buffer => createHmac("sha256", key).update(`${id}:${pin}`).digest();

  function sweep(now: number): void {
    for (const [id, login] of pending) {
      if (login.expiresAt <= now || login.done) pending.delete(id);
    }
    while (pending.size >= maxPending) {
      const oldest = pending.keys().next();
      if (oldest.done) break;
      pending.delete(oldest.value);
    }
  }

  return {
    start(email, binding, data, send, now) {
      sweep(now.getTime());
      const id = randomBytes(16).toString("hex");
      const pin = send ? String(randomInt(0, 10 ** settings.length)).padStart(settings.length, "0") : undefined;
      pending.set(id, {
        id,
        email,
        binding,
        data,
        expiresAt: now.getTime() + settings.ttlSeconds * 1000,
        attempts: 0,
        pinHash: pin === undefined ? undefined : hash(id, pin),
        done: false,
      });
      return { id, pin };
    },

    check(id, binding, pin, now) {
      const login = pending.get(id);
      if (login === undefined || login.done || login.binding !== binding) return { result: "unknown" };
      if (now.getTime() >= login.expiresAt) return { result: "expired", login };
      if (login.attempts >= settings.maxAttempts) return { result: "locked", login };

      const submitted = hash(id, pin.trim());
      if (login.pinHash !== undefined && timingSafeEqual(submitted, login.pinHash)) {
        login.done = true;
        return { result: "ok", login };
      }
      login.attempts += 1;
      return { result: login.attempts >= settings.maxAttempts ? "locked" : "wrong", login };
    },
  };
}
