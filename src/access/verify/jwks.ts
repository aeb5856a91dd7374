/**
 * The origin's copy of the team domain's JWKS (/cdn-cgi/access/certs), with keys chosen by kid. Cloudflare
 * publishes a new key at rotation, and validators that never reload reject valid tokens. So an unknown kid triggers
 * one refetch, at most once per refetch interval. Only RSA keys usable for RS256 are kept.
 */
import { importJWK } from "jose";
import { AccessTokenError } from "../errors.ts";

/** The subset of the Fetch API the cache uses; the global fetch and undici's fetch both fit. */
export type FetchLike = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<{ status: number; text(): Promise<string> }>;

export interface JwksCacheOptions {
  url: string;
  fetch: FetchLike;
  /** Minimum time between two fetches caused by unknown kids, in milliseconds. */
  refetchIntervalMs: number;
  /** Age after which the next lookup fetches the JWKS again, in milliseconds. */
  maxAgeMs: number;
  /** Time limit of one fetch, in milliseconds. */
  timeoutMs: number;
  /** Clock in milliseconds. */
  now: () => number;
}

type VerificationKey = Awaited<ReturnType<typeof importJWK>>;

const MAX_BODY_CHARS = 1_000_000;

/**
 * A kid → key map filled from the JWKS URL on demand. A failed fetch throws ERR_JWKS_UNAVAILABLE for the lookup
 * that started it. Lookups inside the following refetch interval use the keys already cached, or throw the same
 * error when there are none. An outage of the team domain therefore never causes a fetch per request.
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  #keys = new Map<string, VerificationKey>();
  #fetchedAt: number | undefined;
  #attemptedAt: number | undefined;
  #lastError: AccessTokenError | undefined;
  #loading: Promise<void> | undefined;
  /** Number of fetches started, for tests and metrics. */
  fetchCount = 0;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /** Returns the key for `kid`, fetching the JWKS first when the cache is empty or stale. */
  async getKey(kid: string): Promise<VerificationKey> {
    const { now, maxAgeMs } = this.#options;
    // A lookup during a fetch waits for it: the fetch's own caller gets its error, and this one reads its result.
    if (this.#loading !== undefined) await this.#loading.catch(() => undefined);

    if (this.#fetchedAt === undefined || now() - this.#fetchedAt >= maxAgeMs) {
      if (this.#mayFetch()) await this.#load();
      else if (this.#fetchedAt === undefined && this.#lastError !== undefined) throw this.#lastError;
    }

    const cached = this.#keys.get(kid);
    if (cached !== undefined) return cached;

    if (this.#mayFetch()) {
      await this.#load();
      const fetched = this.#keys.get(kid);
      if (fetched !== undefined) return fetched;
    }
    throw new AccessTokenError("ERR_TOKEN_UNKNOWN_KID", `header "kid" names no key in ${this.#options.url} (kid ${kid})`, { claim: "kid" });
  }

  #mayFetch(): boolean {
    return this.#attemptedAt === undefined || this.#options.now() - this.#attemptedAt >= this.#options.refetchIntervalMs;
  }

  /** Fetches the JWKS once, sharing a fetch already in flight. */
  #load(): Promise<void> {
    this.#loading ??= this.#fetchKeys()
      .then(
        () => {
          this.#fetchedAt = this.#options.now();
          this.#lastError = undefined;
        },
        (error: AccessTokenError) => {
          this.#lastError = error;
          throw error;
        },
      )
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  async #fetchKeys(): Promise<void> {
    const { url, fetch, timeoutMs, now } = this.#options;
    this.fetchCount += 1;
    this.#attemptedAt = now();
    const unavailable = (reason: string, cause?: unknown) =>
      new AccessTokenError("ERR_JWKS_UNAVAILABLE", `JWKS at ${url} ${reason}; check the team domain and the network path to it`, { cause, kind: "internal" });

    let body: string;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
      if (response.status !== 200) throw unavailable(`returned HTTP ${response.status}`);
      body = await response.text();
    } catch (error) {
      if (error instanceof AccessTokenError) throw error;
      throw unavailable(`could not be fetched: ${(error as Error).message}`, error);
    }
    if (body.length > MAX_BODY_CHARS) throw unavailable(`is larger than ${MAX_BODY_CHARS} characters`);

    let document: { keys?: unknown };
    try {
      document = JSON.parse(body) as { keys?: unknown };
    } catch (error) {
      throw unavailable("is not JSON", error);
    }
    if (!Array.isArray(document.keys)) throw unavailable("has no \"keys\" array");

    const keys = new Map<string, VerificationKey>();
    for (const jwk of document.keys as Record<string, unknown>[]) {
      if (jwk.kty !== "RSA" || typeof jwk.kid !== "string" || typeof jwk.n !== "string" || typeof jwk.e !== "string") continue;
      if ((jwk.alg !== undefined && jwk.alg !== "RS256") || (jwk.use !== undefined && jwk.use !== "sig")) continue;
      try {
        keys.set(jwk.kid, await importJWK({ kty: "RSA", n: jwk.n, e: jwk.e }, "RS256"));
      } catch (error) {
        throw unavailable(`has an RSA key that cannot be imported (kid ${jwk.kid})`, error);
      }
    }
    this.#keys = keys;
  }
}
