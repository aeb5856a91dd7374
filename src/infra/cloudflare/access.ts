/**
 * Cloudflare Access for the app host: service tokens, one account-level policy per configured policy, and one
 * self-hosted application per configured application that lists its policies in precedence order. Each
 * application's `aud` output is the audience the origin checks in Cf-Access-Jwt-Assertion.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { AccessConfig } from "../../config/index.ts";
import { rejectInvalidArgs } from "../errors.ts";
import { selectorInput, selectorProblems, type ServiceTokenIds } from "./selectors.ts";

const TYPE = "edgelock:cloudflare:Access";

export interface AccessArgs {
  accountId: pulumi.Input<string>;
  /** The `access` section of the config. */
  access: AccessConfig;
  /** Domain of an application without its own `domain`: the app host. */
  defaultDomain: string;
  /** Prefix of the names shown in the Zero Trust dashboard, such as the config's `name`. */
  namePrefix: string;
}

/** Service token credentials; the secret is a Pulumi secret. */
export interface ServiceTokenOutputs {
  clientId: pulumi.Output<string>;
  clientSecret: pulumi.Output<string>;
}

/** Returns the domain an application covers: its own, or the default. */
export function applicationDomain(application: AccessConfig["applications"][number], defaultDomain: string): string {
  return application.domain ?? defaultDomain;
}

export function validateAccessArgs(args: AccessArgs): string[] {
  const problems: string[] = [];
  const declaredTokens: ServiceTokenIds = Object.fromEntries(args.access.serviceTokens.map((token) => [token.name, ""]));
  const tokenNames = new Set<string>();
  args.access.serviceTokens.forEach((token, index) => {
    if (tokenNames.has(token.name)) problems.push(`"access.serviceTokens[${index}].name" "${token.name}" is declared twice`);
    tokenNames.add(token.name);
  });

  const appNames = new Set<string>();
  args.access.applications.forEach((application, appIndex) => {
    const path = `access.applications[${appIndex}]`;
    if (appNames.has(application.name)) problems.push(`"${path}.name" "${application.name}" is declared twice`);
    appNames.add(application.name);
    const domain = applicationDomain(application, args.defaultDomain);
    if (/^[a-z]+:\/\//i.test(domain)) problems.push(`"${path}.domain" must not include a scheme (got "${domain}"); write "${domain.replace(/^[a-z]+:\/\//i, "")}"`);
    if (application.policies.length === 0) problems.push(`"${path}.policies" must hold at least one policy; an application without one denies everyone`);

    const policyNames = new Set<string>();
    application.policies.forEach((policy, policyIndex) => {
      const policyPath = `${path}.policies[${policyIndex}]`;
      if (policyNames.has(policy.name)) problems.push(`"${policyPath}.name" "${policy.name}" is used twice in this application`);
      policyNames.add(policy.name);
      if (policy.include.length === 0) problems.push(`"${policyPath}.include" must hold at least one selector`);
      problems.push(...selectorProblems(policy.include, `${policyPath}.include`, declaredTokens));
      problems.push(...selectorProblems(policy.require, `${policyPath}.require`, declaredTokens));
      problems.push(...selectorProblems(policy.exclude, `${policyPath}.exclude`, declaredTokens));
    });
  });
  return problems;
}

export class Access extends pulumi.ComponentResource {
  /** Audience tag of each application, by application name. */
  readonly auds: Record<string, pulumi.Output<string>>;
  /** Credentials of each service token, by token name. */
  readonly serviceTokens: Record<string, ServiceTokenOutputs>;

  constructor(name: string, args: AccessArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateAccessArgs(args));
    super(TYPE, name, {}, opts);

    const tokenIds: ServiceTokenIds = {};
    this.serviceTokens = {};
    for (const token of args.access.serviceTokens) {
      const serviceToken = new cloudflare.ZeroTrustAccessServiceToken(`${name}-token-${token.name}`, {
        accountId: args.accountId,
        name: `${args.namePrefix}-${token.name}`,
        duration: token.duration,
      }, { parent: this, additionalSecretOutputs: ["clientSecret"] });
      tokenIds[token.name] = serviceToken.id;
      this.serviceTokens[token.name] = { clientId: serviceToken.clientId, clientSecret: pulumi.secret(serviceToken.clientSecret) };
    }

    this.auds = {};
    for (const application of args.access.applications) {
      const policies = application.policies.map((policy, index) => {
        const accessPolicy = new cloudflare.ZeroTrustAccessPolicy(`${name}-${application.name}-${policy.name}`, {
          accountId: args.accountId,
          name: `${args.namePrefix}-${application.name}-${policy.name}`,
          decision: policy.decision,
          includes: policy.include.map((selector) => selectorInput(selector, tokenIds)),
          requires: policy.require.map((selector) => selectorInput(selector, tokenIds)),
          excludes: policy.exclude.map((selector) => selectorInput(selector, tokenIds)),
          ...(policy.sessionDuration === undefined ? {} : { sessionDuration: policy.sessionDuration }),
        }, { parent: this });
        return { id: accessPolicy.id, precedence: index + 1 };
      });

      const domain = applicationDomain(application, args.defaultDomain);
      const accessApplication = new cloudflare.ZeroTrustAccessApplication(`${name}-${application.name}`, {
        accountId: args.accountId,
        type: "self_hosted",
        name: `${args.namePrefix}-${application.name}`,
        domain,
        destinations: [{ type: "public", uri: domain }],
        sessionDuration: application.sessionDuration,
        httpOnlyCookieAttribute: application.httpOnlyCookie,
        sameSiteCookieAttribute: application.sameSiteCookie,
        serviceAuth401Redirect: application.serviceAuth401Redirect,
        appLauncherVisible: false,
        policies,
      }, { parent: this });
      this.auds[application.name] = accessApplication.aud;
    }

    this.registerOutputs({ auds: this.auds, serviceTokens: this.serviceTokens });
  }
}
