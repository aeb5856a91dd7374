/**
 * Cookie parsing and Set-Cookie serialization for the edge's own cookies (CF_Authorization, CF_AppSession,
 * CF_Session). Cloudflare sets them host-only (no Domain attribute), which is what the edge does too.
 */

export interface CookieAttributes {
  /** Absolute expiry; omitted for a session cookie. */
  expires?: Date;
  /** Default "/". */
  path?: string;
  /** Default true: every edge host is HTTPS. */
  secure?: boolean;
  /** Default true. */
  httpOnly?: boolean;
  /** Omitted when undefined. */
  sameSite?: "none" | "lax" | "strict";
}

/** Parses a Cookie header (or the several headers HTTP/2 clients may send) into a name → value map; the first value of a name wins. */
export function parseCookies(header: string | string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const line of lines) {
    for (const pair of line.split(";")) {
      const separator = pair.indexOf("=");
      if (separator <= 0) continue;
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (name !== "" && !cookies.has(name)) cookies.set(name, value);
    }
  }
  return cookies;
}

/** Removes every cookie called `name` from a Cookie header; returns undefined when nothing is left. */
export function removeCookie(header: string | string[] | undefined, name: string): string | undefined {
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  const kept = lines
    .flatMap((line) => line.split(";"))
    .map((pair) => pair.trim())
    .filter((pair) => pair !== "" && pair.split("=", 1)[0]?.trim() !== name);
  return kept.length === 0 ? undefined : kept.join("; ");
}

/** Serializes one Set-Cookie value in the attribute order Cloudflare was observed to use. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes = {}): string {
  const parts = [`${name}=${value}`];
  if (attributes.expires !== undefined) parts.push(`Expires=${attributes.expires.toUTCString()}`);
  parts.push(`Path=${attributes.path ?? "/"}`);
  if (attributes.secure ?? true) parts.push("Secure");
  if (attributes.httpOnly ?? true) parts.push("HttpOnly");
  if (attributes.sameSite !== undefined) parts.push(`SameSite=${attributes.sameSite}`);
  return parts.join("; ");
}

/** Serializes a Set-Cookie value that deletes the cookie: empty value, Expires in 1970. */
export function expiredCookie(name: string, sameSite?: "none" | "lax" | "strict"): string {
  return serializeCookie(name, "", { expires: new Date(0), ...(sameSite === undefined ? {} : { sameSite }) });
}
