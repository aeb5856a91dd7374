/**
 * One-time grants between the team domain and the app host. After a login, Cloudflare sends the browser to
 * `https://<app host>/cdn-cgi/access/authorized?nonce=…`, and that request sets the app cookie. Here a nonce names a
 * grant kept in memory for 60 seconds; it can be redeemed once, on the host it was made for.
 */
import { randomBytes } from "node:crypto";

/** Grant data the app host needs to mint the app token. */
export interface AuthorizationGrant {
  /** App host the grant is for. */
  host: string;
  aud: string;
  email: string;
  /** Country at login time, for the token's `country` claim. */
  country: string;
  /** Session seconds for the app token (policy override or application's). */
  sessionSeconds: number;
  /** Same-host path and query to return to. */
  redirectUrl: string;
  /** The login redirect's meta token, checked against the CF_AppSession cookie; undefined for SSO without one. */
  meta: string | undefined;
}

export interface AuthorizationGrants {
  /** Stores a grant and returns its nonce. */
  create(grant: AuthorizationGrant, now: Date): string;
  /** Returns and removes the grant of a nonce, or undefined when it is unknown, used or older than 60 seconds. */
  redeem(nonce: string, now: Date): AuthorizationGrant | undefined;
}

const GRANT_LIFETIME_MS = 60_000;
const MAX_GRANTS = 10_000;

/** Creates the in-memory grant store. */
export function createAuthorizationGrants(): AuthorizationGrants {
  const grants = new Map<string, { grant: AuthorizationGrant; expiresAt: number }>();

  return {
    create(grant, now) {
      for (const [nonce, entry] of grants) {
        if (entry.expiresAt <= now.getTime()) grants.delete(nonce);
      }
      if (grants.size >= MAX_GRANTS) {
        const oldest = grants.keys().next();
        if (!oldest.done) grants.delete(oldest.value);
      }
      const nonce = randomBytes(24).toString("base64url");
      grants.set(nonce, { grant, expiresAt: now.getTime() + GRANT_LIFETIME_MS });
      return nonce;
    },

    redeem(nonce, now) {
      const entry = grants.get(nonce);
      grants.delete(nonce);
      if (entry === undefined || entry.expiresAt <= now.getTime()) return undefined;
      return entry.grant;
    },
  };
}
