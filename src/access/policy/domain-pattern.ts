/**
 * Application domains as Cloudflare Access matches them ("Application paths" in the Zero Trust docs). A "*" in a
 * host label matches inside that one label, so "*.example.com" covers neither the apex nor a.b.example.com, and
 * "*test.example.com" covers test.example.com. A path covers itself and everything below it ("/eng" covers
 * "/eng/exec"), "/alpha/*" does not cover "/alpha", and a mid-path "*" spans segments. Ports and queries play no part.
 */
import { AccessError } from "../errors.ts";
import type { DomainPattern } from "./types.ts";

const HOST_LABEL = /^[a-z0-9*]([a-z0-9*-]*[a-z0-9*])?$/;
const UNRESERVED = /%(2[dD]|2[eE]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|7[eE])/g;

/** Parses an application domain such as "app.example.com/admin/*"; `application` names it in errors. */
export function parseDomainPattern(domain: string, application: string): DomainPattern {
  const fail = (rule: string): never => {
    throw new AccessError("ERR_ACCESS_CONFIG", `application "${application}": domain "${domain}" ${rule}`);
  };
  if (domain.includes("://")) fail("must not have a scheme; write it as \"app.example.com/path\"");
  if (/[?#]/.test(domain)) fail("must not have a query string or fragment, because Access ignores them");

  const slash = domain.indexOf("/");
  const host = (slash === -1 ? domain : domain.slice(0, slash)).toLowerCase();
  const path = slash === -1 ? undefined : domain.slice(slash);
  if (host.includes(":")) fail("must not have a port, because Access strips ports");

  const hostLabels = host.split(".");
  for (const label of hostLabels) {
    if (!HOST_LABEL.test(label)) fail(`has an invalid host label "${label}"; use letters, digits, "-" and at most one "*"`);
    if (countStars(label) > 1) fail(`has more than one "*" in the host label "${label}"; Access allows one per label`);
  }
  for (const segment of (path ?? "").split("/")) {
    if (countStars(segment) > 1) fail(`has more than one "*" in the path segment "${segment}"; Access allows one per segment`);
  }

  return { hostLabels, path: path === undefined || path === "/" || path === "/*" ? undefined : path };
}

function countStars(text: string): number {
  return text.split("*").length - 1;
}

/** Lowercases a request host and removes its port and a trailing dot: "App.Localhost:8443" → "app.localhost". */
export function normalizeRequestHost(host: string): string {
  let bare = host.trim().toLowerCase();
  if (bare.startsWith("[")) {
    bare = bare.slice(0, bare.indexOf("]") + 1);
  } else if (bare.includes(":")) {
    bare = bare.slice(0, bare.indexOf(":"));
  }
  return bare.endsWith(".") ? bare.slice(0, -1) : bare;
}

/**
 * Normalizes a request path for matching: drops the query and fragment, resolves "." and ".." segments (also when
 * percent-encoded) and decodes percent-encoded unreserved characters, so "/%61dmin/../admin" becomes "/admin".
 */
export function normalizeRequestPath(path: string): string {
  const withoutQuery = path.split(/[?#]/, 1)[0] ?? "";
  const absolute = withoutQuery.startsWith("/") ? withoutQuery : `/${withoutQuery}`;
  const resolved = new URL(absolute, "https://path.invalid").pathname;
  return resolved.replace(UNRESERVED, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
}

/** Returns true when the normalized `host` is covered by the pattern's host labels. */
export function hostMatches(pattern: DomainPattern, host: string): boolean {
  const labels = host.split(".");
  if (labels.length !== pattern.hostLabels.length) return false;
  return pattern.hostLabels.every((label, index) => labelMatches(label, labels[index] ?? ""));
}

function labelMatches(pattern: string, label: string): boolean {
  const star = pattern.indexOf("*");
  if (star === -1) return pattern === label;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return label.length >= prefix.length + suffix.length && label.startsWith(prefix) && label.endsWith(suffix);
}

/**
 * Returns true when the normalized `path` is covered: the pattern itself, or anything below it after a "/".
 * NOTE: the comparison is case-sensitive, as URL paths are; Cloudflare does not document its path case rule.
 */
export function pathMatches(pattern: DomainPattern, path: string): boolean {
  if (pattern.path === undefined) return true;
  const below = pattern.path.endsWith("/") ? `${pattern.path}*` : `${pattern.path}/*`;
  return globMatches(pattern.path, path) || globMatches(below, path);
}

/**
 * Matches `text` against a pattern whose "*" matches any run of characters, "/" included. Backtracks only to the
 * last "*", so the cost is O(pattern × text) at worst, never exponential.
 */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === "*") {
      starAt = p;
      resumeAt = t;
      p += 1;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p += 1;
      t += 1;
    } else if (starAt !== -1) {
      p = starAt + 1;
      resumeAt += 1;
      t = resumeAt;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p += 1;
  return p === pattern.length;
}

/**
 * Ranks how specific a pattern is, for "the most specific application wins": fewer host wildcards first, then more
 * literal host characters, then more literal path characters, then fewer path wildcards. Larger is more specific.
 * NOTE: Cloudflare documents the rule only for a path below another path, so ranking the host first is a guess.
 */
export function specificity(pattern: DomainPattern): number[] {
  const host = pattern.hostLabels.join(".");
  const path = pattern.path ?? "";
  return [-countStars(host), host.length - countStars(host), path.length - countStars(path), -countStars(path)];
}
