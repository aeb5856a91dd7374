/**
 * Turns the `access` section of the configuration into applications ready for matching. Domains and CIDR blocks
 * are parsed, and each application gets a stable 64-hex AUD. Emails and domains go into Sets, so evaluation time
 * does not grow with the number of allowed addresses.
 */
import { createHash } from "node:crypto";
import { durationSeconds, type EdgelockConfig, type Selector } from "../../config/index.ts";
import { AccessError } from "../errors.ts";
import { parseDomainPattern } from "./domain-pattern.ts";
import { parseCidr } from "./ip.ts";
import type { CompiledApplication, CompiledGroup, CompiledPolicy, EmailMatching } from "./types.ts";

const AUD = /^[0-9a-f]{64}$/;

/** Maps a configured host (such as "app.example.com") to the one the local stack serves (such as "app.localhost"). */
export type HostMap = (host: string) => string;

/**
 * Derives an application's AUD the way edgelock does when no real one is known: SHA-256 over the team and
 * application names, as 64 lowercase hex characters. Cloudflare assigns random AUDs; this one is only stable.
 */
export function deriveAud(teamName: string, applicationName: string): string {
  return createHash("sha256").update(`edgelock-aud\0${teamName}\0${applicationName}`).digest("hex");
}

/**
 * Compiles every application of `config.access`. Each application's domain defaults to `config.hosts.app`; the
 * host part goes through `hostMap` when given. `auds` pins AUDs by application name (for example the deployed
 * ones); the others are derived with `deriveAud`. Throws ERR_ACCESS_CONFIG for an invalid domain, AUD or CIDR.
 */
export function compileApplications(
  config: Pick<EdgelockConfig, "hosts" | "access">,
  hostMap?: HostMap,
  auds: Readonly<Record<string, string>> = {},
): CompiledApplication[] {
  const emailMatching: EmailMatching = {
    caseSensitive: config.access.emailMatching?.caseSensitive ?? false,
    domainMatchesSubdomains: config.access.emailMatching?.domainMatchesSubdomains ?? false,
  };
  const known = new Set(config.access.applications.map((application) => application.name));
  for (const name of Object.keys(auds)) {
    if (!known.has(name)) throw new AccessError("ERR_ACCESS_CONFIG", `auds names the application "${name}", which is not in access.applications`);
  }

  return config.access.applications.map((application) => {
    const configured = application.domain ?? config.hosts.app;
    const domain = mapDomainHost(configured, hostMap);
    const aud = auds[application.name] ?? deriveAud(config.access.teamName, application.name);
    if (!AUD.test(aud)) {
      throw new AccessError("ERR_ACCESS_CONFIG", `AUD of application "${application.name}" must be 64 lowercase hex characters (got "${aud}")`);
    }

    const policies = application.policies.map((policy, index): CompiledPolicy => ({
      name: policy.name,
      decision: policy.decision,
      precedence: index + 1,
      include: compileGroup(policy.include, emailMatching, `${application.name}/${policy.name}`),
      require: compileGroup(policy.require, emailMatching, `${application.name}/${policy.name}`),
      exclude: compileGroup(policy.exclude, emailMatching, `${application.name}/${policy.name}`),
      sessionSeconds: policy.sessionDuration === undefined ? undefined : durationSeconds(policy.sessionDuration),
    }));

    return {
      name: application.name,
      aud,
      domain,
      pattern: parseDomainPattern(domain, application.name),
      sessionSeconds: durationSeconds(application.sessionDuration),
      cookie: { httpOnly: application.httpOnlyCookie, sameSite: application.sameSiteCookie },
      serviceAuth401Redirect: application.serviceAuth401Redirect,
      policies,
      serviceAuthOnly: !policies.some((policy) => policy.decision === "allow"),
      emailMatching,
    };
  });
}

function mapDomainHost(domain: string, hostMap: HostMap | undefined): string {
  if (hostMap === undefined) return domain;
  const slash = domain.indexOf("/");
  const host = slash === -1 ? domain : domain.slice(0, slash);
  const path = slash === -1 ? "" : domain.slice(slash);
  return `${hostMap(host)}${path}`;
}

/** Normalizes an address the way `email` selectors compare it. */
export function normalizeEmail(email: string, matching: EmailMatching): string {
  return matching.caseSensitive ? email : email.toLowerCase();
}

function compileGroup(selectors: readonly Selector[], matching: EmailMatching, where: string): CompiledGroup {
  const group: CompiledGroup = {
    emails: new Set(),
    emailDomains: new Set(),
    cidrs: [],
    countries: new Set(),
    serviceTokens: new Set(),
    everyone: 0,
    anyValidServiceToken: 0,
    size: selectors.length,
  };

  for (const selector of selectors) {
    if ("email" in selector) group.emails.add(normalizeEmail(selector.email, matching));
    else if ("emailDomain" in selector) group.emailDomains.add(selector.emailDomain.toLowerCase());
    else if ("ip" in selector) group.cidrs.push(compileCidr(selector.ip, where));
    else if ("geo" in selector) group.countries.add(selector.geo.toUpperCase());
    else if ("serviceToken" in selector) group.serviceTokens.add(selector.serviceToken);
    else if ("everyone" in selector) group.everyone += 1;
    else if ("anyValidServiceToken" in selector) group.anyValidServiceToken += 1;
  }
  return group;
}

function compileCidr(block: string, where: string) {
  const parsed = parseCidr(block);
  if (parsed === undefined) {
    throw new AccessError("ERR_ACCESS_CONFIG", `policy "${where}": "${block}" is not an IPv4 or IPv6 CIDR block, such as "203.0.113.0/24"`);
  }
  return parsed;
}
