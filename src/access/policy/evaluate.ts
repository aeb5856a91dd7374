/**
 * Policy evaluation in Cloudflare's order. Bypass and Service Auth policies run first by precedence, then Allow
 * and Block by precedence. The first Allow or Block match wins, and nothing matching means deny. A policy matches
 * when any include selector, every require selector and no exclude selector matches.
 *
 * Before login the email is unknown, so each selector yields yes, no or maybe (three-valued logic): "login" means
 * some Allow policy can still pass once the user logs in, "forbidden" that none ever can.
 */
import { normalizeEmail } from "./compile.ts";
import { cidrContains, parseAddress, type ParsedAddress } from "./ip.ts";
import type { CompiledApplication, CompiledGroup, CompiledPolicy, EmailMatching, PolicyContext, PolicyPhase, PolicyResult } from "./types.ts";

/** Three-valued truth: NO, MAYBE (depends on an identity not known yet), YES. */
type Truth = 0 | 1 | 2;
const NO: Truth = 0;
const MAYBE: Truth = 1;
const YES: Truth = 2;

/** The request as the selectors see it; `email` is undefined when the identity is not known yet. */
interface Subject {
  address: ParsedAddress | undefined;
  country: string;
  email: string | undefined;
  emailDomain: string | undefined;
  serviceToken: string | undefined;
  matching: EmailMatching;
}

/**
 * Evaluates an application's policies for one request.
 * - phase "request" ignores `context.email`. A Bypass match gives "bypass" and a Service Auth match "service".
 *   Otherwise the result is "login" when an Allow policy could pass after login, else "forbidden". "forbidden"
 *   comes from a Block policy that matches every identity, or from no Allow policy fitting the IP, country or token.
 * - phase "identity" runs Allow and Block policies with `context.email`: "allow" or "deny" for the first match,
 *   "deny" without a policy when nothing matches. A missing email matches no identity selector.
 */
export function evaluatePolicies(app: CompiledApplication, context: PolicyContext, phase: PolicyPhase): PolicyResult {
  const subject = toSubject(app.emailMatching, context, phase === "identity");
  return phase === "request" ? evaluateRequest(app.policies, subject) : evaluateIdentity(app.policies, subject);
}

/**
 * Returns true when an Allow policy would let `email` in from this context. The edge sends a one-time PIN only
 * when this holds, so a PIN never reaches an address that could not log in anyway.
 */
export function couldEmailBeAllowed(app: CompiledApplication, email: string, context: Omit<PolicyContext, "email">): boolean {
  return evaluatePolicies(app, { ...context, email }, "identity").decision === "allow";
}

function evaluateRequest(policies: readonly CompiledPolicy[], subject: Subject): PolicyResult {
  for (const policy of policies) {
    if (policy.decision !== "bypass" && policy.decision !== "non_identity") continue;
    if (policyTruth(policy, subject) === YES) {
      return policy.decision === "bypass" ? { decision: "bypass", policy } : { decision: "service", policy };
    }
  }

  for (const policy of policies) {
    if (policy.decision !== "allow" && policy.decision !== "deny") continue;
    const truth = policyTruth(policy, subject);
    if (policy.decision === "allow" && truth !== NO) return { decision: "login", policy };
    if (policy.decision === "deny" && truth === YES) return { decision: "forbidden", policy };
  }
  return { decision: "forbidden" };
}

function evaluateIdentity(policies: readonly CompiledPolicy[], subject: Subject): PolicyResult {
  for (const policy of policies) {
    if (policy.decision !== "allow" && policy.decision !== "deny") continue;
    if (policyTruth(policy, subject) === YES) {
      return policy.decision === "allow" ? { decision: "allow", policy } : { decision: "deny", policy };
    }
  }
  return { decision: "deny" };
}

function toSubject(matching: EmailMatching, context: PolicyContext, identityKnown: boolean): Subject {
  const email = identityKnown ? normalizeEmail(context.email ?? "", matching) : undefined;
  return {
    address: parseAddress(context.ip),
    country: context.country.toUpperCase(),
    email,
    emailDomain: email === undefined ? undefined : domainOf(email),
    serviceToken: context.serviceToken?.name,
    matching,
  };
}

/** Returns the lowercase domain after the last "@", or "" when there is no local part or no domain. */
function domainOf(email: string): string {
  const at = email.lastIndexOf("@");
  return at <= 0 ? "" : email.slice(at + 1).toLowerCase();
}

function policyTruth(policy: CompiledPolicy, subject: Subject): Truth {
  const included = anyOf(policy.include, subject);
  if (included === NO) return NO;
  const required = allOf(policy.require, subject);
  if (required === NO) return NO;
  const excluded = anyOf(policy.exclude, subject);
  return Math.min(included, required, YES - excluded) as Truth;
}

/** Include and exclude: does any selector of the group match? */
function anyOf(group: CompiledGroup, subject: Subject): Truth {
  if (group.everyone > 0) return YES;
  if (group.anyValidServiceToken > 0 && subject.serviceToken !== undefined) return YES;
  if (subject.serviceToken !== undefined && group.serviceTokens.has(subject.serviceToken)) return YES;
  if (group.countries.has(subject.country)) return YES;
  if (subject.address !== undefined && group.cidrs.some((block) => cidrContains(block, subject.address as ParsedAddress))) return YES;

  if (group.emails.size === 0 && group.emailDomains.size === 0) return NO;
  if (subject.email === undefined) return MAYBE;
  if (group.emails.has(subject.email)) return YES;
  return domainListed(group.emailDomains, subject) ? YES : NO;
}

/** Require: does every selector of the group match? Two different emails, countries or tokens never can. */
function allOf(group: CompiledGroup, subject: Subject): Truth {
  if (group.size === 0) return YES;
  if (group.anyValidServiceToken > 0 && subject.serviceToken === undefined) return NO;
  if (group.serviceTokens.size > 0 && !(group.serviceTokens.size === 1 && subject.serviceToken !== undefined && group.serviceTokens.has(subject.serviceToken))) return NO;
  if (group.countries.size > 0 && !(group.countries.size === 1 && group.countries.has(subject.country))) return NO;
  if (group.cidrs.length > 0 && (subject.address === undefined || !group.cidrs.every((block) => cidrContains(block, subject.address as ParsedAddress)))) return NO;
  if (group.emails.size > 1) return NO;
  if (group.emails.size === 0 && group.emailDomains.size === 0) return YES;

  if (subject.email === undefined) return requiredIdentityPossible(group, subject.matching) ? MAYBE : NO;
  if (group.emails.size === 1 && !group.emails.has(subject.email)) return NO;
  for (const domain of group.emailDomains) {
    if (!domainListed(new Set([domain]), subject)) return NO;
  }
  return YES;
}

/** Before login: could one address satisfy every required email and email-domain selector at once? */
function requiredIdentityPossible(group: CompiledGroup, matching: EmailMatching): boolean {
  const [onlyEmail] = group.emails;
  if (onlyEmail !== undefined) {
    const probe: Subject = { address: undefined, country: "", email: onlyEmail, emailDomain: domainOf(onlyEmail), serviceToken: undefined, matching };
    return [...group.emailDomains].every((domain) => domainListed(new Set([domain]), probe));
  }
  return matching.domainMatchesSubdomains || group.emailDomains.size <= 1;
}

/**
 * Looks the email's domain up in `domains`: exactly, or, with `domainMatchesSubdomains`, also each parent domain
 * ("a.b.example.com" tries "b.example.com" and "example.com"). The cost depends on the number of labels only.
 */
function domainListed(domains: ReadonlySet<string>, subject: Subject): boolean {
  let domain = subject.emailDomain ?? "";
  if (domain === "" || domains.size === 0) return false;
  if (domains.has(domain)) return true;
  if (!subject.matching.domainMatchesSubdomains) return false;

  for (let dot = domain.indexOf("."); dot !== -1; dot = domain.indexOf(".")) {
    domain = domain.slice(dot + 1);
    if (domains.has(domain)) return true;
  }
  return false;
}
