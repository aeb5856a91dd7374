/** Compiled applications and policies, the evaluation context, and the decision returned for a request. */
import type { CidrBlock } from "./ip.ts";

/** The selectors of one rule group (include, require or exclude), indexed so that a lookup costs O(1) per email. */
export interface CompiledGroup {
  /** Addresses of `email` selectors, lowercase unless matching is case-sensitive. */
  emails: Set<string>;
  /** Domains of `emailDomain` selectors, lowercase. */
  emailDomains: Set<string>;
  /** Blocks of `ip` selectors; IPv4-mapped IPv6 blocks are stored as IPv4. */
  cidrs: CidrBlock[];
  /** Countries of `geo` selectors, uppercase ISO 3166-1 alpha-2. */
  countries: Set<string>;
  /** Names of `serviceToken` selectors. */
  serviceTokens: Set<string>;
  /** Number of `everyone` selectors. */
  everyone: number;
  /** Number of `anyValidServiceToken` selectors. */
  anyValidServiceToken: number;
  /** Total number of selectors in the group. */
  size: number;
}

/** Cloudflare's policy decisions: Allow, Block, Bypass and Service Auth. */
export type PolicyDecisionType = "allow" | "deny" | "bypass" | "non_identity";

/** One policy of an application, with its 1-based precedence (its position in the configuration). */
export interface CompiledPolicy {
  name: string;
  decision: PolicyDecisionType;
  precedence: number;
  include: CompiledGroup;
  require: CompiledGroup;
  exclude: CompiledGroup;
  /** Session duration in seconds for users this policy allows; undefined means the application's. */
  sessionSeconds: number | undefined;
}

/** Attributes of the CF_Authorization cookie on the app host. */
export interface CookieOptions {
  httpOnly: boolean;
  sameSite: "none" | "lax" | "strict";
}

/** Comparison rules of email selectors. Cloudflare documents neither behaviour, so both are settings. */
export interface EmailMatching {
  /** Compares `email` selectors case-sensitively. Default false. */
  caseSensitive: boolean;
  /** Lets `emailDomain: "example.com"` match "a@dev.example.com" too. Default false (exact domain only). */
  domainMatchesSubdomains: boolean;
}

/** A parsed application domain such as "*.example.com/admin/*". */
export interface DomainPattern {
  /** Host labels, each with at most one "*" that matches zero or more characters inside that label. */
  hostLabels: string[];
  /** Path pattern starting with "/", or undefined when the application covers every path. */
  path: string | undefined;
}

/** An Access application ready for matching and evaluation. */
export interface CompiledApplication {
  name: string;
  /** Audience tag, 64 lowercase hex characters. */
  aud: string;
  /** Host and optional path the application covers, after the host map, such as "app.localhost/admin/*". */
  domain: string;
  pattern: DomainPattern;
  /** Application session duration in seconds. */
  sessionSeconds: number;
  cookie: CookieOptions;
  /** Whether the edge returns 401 instead of 403 when only Service Auth policies could match. */
  serviceAuth401Redirect: boolean;
  /** Policies in precedence order. */
  policies: CompiledPolicy[];
  /** True when the application has no Allow policy, so an identity login can never open it. */
  serviceAuthOnly: boolean;
  emailMatching: EmailMatching;
}

/**
 * Request attributes the selectors read. `ip` is the socket address of the client. There is deliberately no
 * X-Forwarded-For field, because a client can write that header.
 */
export interface PolicyContext {
  /** Client socket address, IPv4 or IPv6 (IPv4-mapped IPv6 is treated as IPv4). */
  ip: string;
  /** Client country, ISO 3166-1 alpha-2. */
  country: string;
  /** Verified email address; absent before login. */
  email?: string;
  /** Service token whose Client ID and Secret the request carried and the store verified. */
  serviceToken?: { name: string };
}

/**
 * "request" runs before any identity is known: Bypass and Service Auth policies, then whether an Allow policy
 * could pass after login. "identity" runs Allow and Block policies with the verified email.
 */
export type PolicyPhase = "request" | "identity";

/**
 * The outcome of evaluating an application's policies.
 * - bypass: a Bypass policy matched; proxy without Access headers.
 * - service: a Service Auth policy matched; mint a service-token JWT. `context.serviceToken` is absent when the
 *   policy matched on IP, country or everyone alone.
 * - allow / deny: the first Allow or Block policy that matched the identity; deny without `policy` is the default deny.
 * - login: no identity yet, and some Allow policy could pass once the user logs in.
 * - forbidden: no policy can pass for this request with any identity.
 */
export type PolicyResult =
  | { decision: "bypass"; policy: CompiledPolicy }
  | { decision: "service"; policy: CompiledPolicy }
  | { decision: "allow"; policy: CompiledPolicy }
  | { decision: "deny"; policy?: CompiledPolicy }
  | { decision: "login"; policy: CompiledPolicy }
  | { decision: "forbidden"; policy?: CompiledPolicy };
