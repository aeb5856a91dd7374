/**
 * Cloudflare Access settings: the team domain, the applications with their policies, and service tokens.
 * The same section drives the local edge and the Pulumi program (ZeroTrustAccessApplication and policies).
 */
import { z } from "zod";
import { cidr, goDuration, hostName } from "./common.ts";

/** One selector of a policy rule group. Each element of include, require and exclude contains exactly one. */
export const selectorSchema = z.union([
  z.strictObject({ email: z.string().email().describe("Matches this address exactly (case-insensitive).") }),
  z.strictObject({
    emailDomain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { message: "must be a domain without \"@\", such as \"example.com\"" })
      .describe("Matches addresses whose domain after the \"@\" is exactly this domain (case-insensitive)."),
  }),
  z.strictObject({ ip: cidr.describe("Matches the client's socket address against this CIDR block.") }),
  z.strictObject({ geo: z.string().regex(/^[A-Z]{2}$/).describe("Matches the client's country (ISO 3166-1 alpha-2).") }),
  z.strictObject({ everyone: z.literal(true).describe("Matches every request.") }),
  z.strictObject({ serviceToken: z.string().min(1).describe("Matches the service token with this name.") }),
  z.strictObject({ anyValidServiceToken: z.literal(true).describe("Matches any valid service token.") }),
], {
  error: 'must be one selector object: {"email": …}, {"emailDomain": …}, {"ip": …}, {"geo": …}, {"everyone": true}, {"serviceToken": …} or {"anyValidServiceToken": true}',
});

export const policySchema = z.strictObject({
  name: z.string().min(1).describe("Policy name, unique within the application."),
  decision: z.enum(["allow", "deny", "bypass", "non_identity"]).describe("What a match does, as Cloudflare's `decision`."),
  include: z.array(selectorSchema).min(1).describe("A request matches when any of these selectors matches."),
  require: z.array(selectorSchema).default([]).describe("Every one of these selectors must match as well. Default none."),
  exclude: z.array(selectorSchema).default([]).describe("A match on any of these removes the request. Default none."),
  sessionDuration: goDuration.optional().describe("Overrides the application's session duration for users this policy allows."),
});

export const applicationSchema = z.strictObject({
  name: z.string().min(1).describe("Application name, unique in the configuration."),
  domain: z
    .string()
    .min(1)
    .optional()
    .describe("Host and optional path the application covers, without scheme, such as \"app.example.com/admin/*\". Default: hosts.app."),
  sessionDuration: goDuration.default("24h").describe("Lifetime of the application token and cookie. Default \"24h\"."),
  policies: z.array(policySchema).min(1).describe("Policies in precedence order: the first element has precedence 1."),
  httpOnlyCookie: z.boolean().default(true).describe("Sets HttpOnly on the CF_Authorization cookie. Default true."),
  sameSiteCookie: z.enum(["none", "lax", "strict"]).default("none").describe("SameSite attribute of the CF_Authorization cookie. Default \"none\"."),
  serviceAuth401Redirect: z.boolean().default(false).describe("Answers 401 instead of 403 when only service-auth policies could match. Default false."),
});

export const serviceTokenSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: "must be lowercase letters, digits and \"-\"" }).describe("Token name, referenced by `serviceToken` selectors."),
  duration: goDuration.default("8760h").describe("Lifetime of the token. Default \"8760h\" (one year)."),
});

/**
 * Comparison rules of `email` and `emailDomain` selectors. Cloudflare documents neither point, so both are
 * settings. The local edge applies them, and the deployed Access follows Cloudflare's own rules.
 */
export const emailMatchingSchema = z.strictObject({
  caseSensitive: z.boolean().default(false).describe("Compares `email` selectors case-sensitively. Default false."),
  domainMatchesSubdomains: z
    .boolean()
    .default(false)
    .describe("Lets `emailDomain: \"example.com\"` match addresses at its subdomains too. Default false (exact domain only)."),
});

export const accessSchema = z
  .strictObject({
    teamName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, { message: "must be the team name only, such as \"acme\" for acme.cloudflareaccess.com" })
      .default("edgelock")
      .describe("Zero Trust team name: the team domain is <teamName>.cloudflareaccess.com. Default \"edgelock\"."),
    applications: z.array(applicationSchema).min(1).describe("Self-hosted Access applications."),
    serviceTokens: z.array(serviceTokenSchema).default([]).describe("Service tokens for CI and monitoring. Default none."),
    emailMatching: emailMatchingSchema
      .default({ caseSensitive: false, domainMatchesSubdomains: false })
      .describe("Local edge only: how email selectors compare addresses. Default case-insensitive, exact domain."),
  })
  .superRefine((access, context) => {
    const tokenNames = new Set(access.serviceTokens.map((token) => token.name));
    const appNames = new Set<string>();
    access.applications.forEach((application, appIndex) => {
      if (appNames.has(application.name)) {
        context.addIssue({ code: "custom", path: ["applications", appIndex, "name"], message: `duplicate application name "${application.name}"` });
      }
      appNames.add(application.name);
      application.policies.forEach((policy, policyIndex) => {
        for (const group of ["include", "require", "exclude"] as const) {
          policy[group].forEach((selector, selectorIndex) => {
            if ("serviceToken" in selector && !tokenNames.has(selector.serviceToken)) {
              context.addIssue({
                code: "custom",
                path: ["applications", appIndex, "policies", policyIndex, group, selectorIndex, "serviceToken"],
                message: `names the service token "${selector.serviceToken}", which is not in access.serviceTokens; add it there or fix the name`,
              });
            }
            const identity = "email" in selector || "emailDomain" in selector;
            if (identity && (policy.decision === "bypass" || policy.decision === "non_identity")) {
              context.addIssue({
                code: "custom",
                path: ["applications", appIndex, "policies", policyIndex, group, selectorIndex],
                message: `identity selectors are not allowed in a "${policy.decision}" policy; use ip, geo, everyone or service tokens`,
              });
            }
          });
        }
      });
    });
  });

export const hostsSchema = z.strictObject({
  app: hostName.default("app.example.com").describe("Public host users open, proxied by Cloudflare. Default \"app.example.com\"."),
  origin: hostName.default("origin.example.com").describe("Origin host: the ALB's DNS alias that Cloudflare connects to. Default \"origin.example.com\"."),
});

export type Selector = z.infer<typeof selectorSchema>;
export type Policy = z.infer<typeof policySchema>;
export type Application = z.infer<typeof applicationSchema>;
export type AccessConfig = z.infer<typeof accessSchema>;
export type EmailMatchingConfig = z.infer<typeof emailMatchingSchema>;
