/**
 * Pure mapping from the config's policy selectors to `@pulumi/cloudflare` v6 policy rules: one selector per
 * element, as the API expects, with camelCase keys (`emailDomain`, `countryCode`, `tokenId`).
 */
import type * as cloudflare from "@pulumi/cloudflare";
import type * as pulumi from "@pulumi/pulumi";
import type { Selector } from "../../config/index.ts";

export type PolicyRule = cloudflare.types.input.ZeroTrustAccessPolicyInclude;

/** Service token ids by the token's name in `access.serviceTokens`. */
export type ServiceTokenIds = Record<string, pulumi.Input<string>>;

/**
 * Maps one selector. IP rules get an explicit /32 or /128, because the API returns bare addresses that way
 * and the provider would otherwise report a difference on every run.
 */
export function selectorInput(selector: Selector, tokenIds: ServiceTokenIds): PolicyRule {
  if ("email" in selector) return { email: { email: selector.email } };
  if ("emailDomain" in selector) return { emailDomain: { domain: selector.emailDomain } };
  if ("ip" in selector) return { ip: { ip: withPrefixLength(selector.ip) } };
  if ("geo" in selector) return { geo: { countryCode: selector.geo } };
  if ("everyone" in selector) return { everyone: {} };
  if ("anyValidServiceToken" in selector) return { anyValidServiceToken: {} };

  const tokenId = tokenIds[selector.serviceToken];
  if (tokenId === undefined) throw new Error(`service token "${selector.serviceToken}" has no id`);
  return { serviceToken: { tokenId } };
}

/** Lists the problems of a selector group: service tokens must be declared in `access.serviceTokens`. */
export function selectorProblems(selectors: Selector[], path: string, tokenIds: ServiceTokenIds): string[] {
  return selectors.flatMap((selector, index) =>
    "serviceToken" in selector && !(selector.serviceToken in tokenIds)
      ? [`"${path}[${index}].serviceToken" names "${selector.serviceToken}", which is not in access.serviceTokens`]
      : [],
  );
}

function withPrefixLength(value: string): string {
  if (value.includes("/")) return value;
  return value.includes(":") ? `${value}/128` : `${value}/32`;
}
