/**
 * The team domain (`<team>.cloudflareaccess.com`, or `team.localhost:8443` locally) and the issuer derived from
 * it. Cloudflare's tokens carry `iss` = `https://<team domain>` with no trailing slash.
 */
import { AccessError } from "./errors.ts";

const HOST_WITH_PORT = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;

/**
 * Normalizes a team domain given as a host ("acme.cloudflareaccess.com"), a host with a port
 * ("team.localhost:8443") or an https URL with an optional trailing slash, and returns the lowercase host[:port].
 * Throws ERR_ACCESS_CONFIG naming `setting` when the value is missing or has a path, query or another scheme.
 */
export function normalizeTeamDomain(value: string | undefined, setting = "teamDomain"): string {
  if (value === undefined || value.trim() === "") {
    throw new AccessError("ERR_ACCESS_CONFIG", `"${setting}" is missing; set it to the team domain, such as "acme.cloudflareaccess.com"`);
  }

  const host = value.trim().toLowerCase().replace(/^https:\/\//, "").replace(/\/$/, "");
  if (!HOST_WITH_PORT.test(host)) {
    throw new AccessError(
      "ERR_ACCESS_CONFIG",
      `"${setting}" must be a host name with an optional port, such as "acme.cloudflareaccess.com" or "https://team.localhost:8443" (got "${value}")`,
    );
  }
  return host;
}

/** Returns the issuer Access writes into tokens for a team domain: `https://<host[:port]>`. */
export function issuerFor(teamDomain: string): string {
  return `https://${normalizeTeamDomain(teamDomain)}`;
}
