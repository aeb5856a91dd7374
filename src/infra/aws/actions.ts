/** Pure mappings from the config's listener settings to `@pulumi/aws` listener inputs; no resources here. */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { ListenerRule, MutualAuthentication, RuleAction } from "../../config/index.ts";

/** Target group ARNs by target name from the config. */
export type TargetGroupArns = Record<string, pulumi.Input<string>>;

/**
 * Writes the listener's mutual authentication block out in full for its mode. Verify names the trust store and
 * sets ignoreClientCertificateExpiry (false unless configured) and advertiseTrustStoreCaNames ("off" unless
 * configured). Passthrough sends no expiry flag, because the API rejects it for that mode. Off sends nothing
 * else, because leftover attributes with off fail at the API.
 */
export function mutualAuthenticationInput(
  config: MutualAuthentication,
  trustStoreArn: pulumi.Input<string>,
): aws.types.input.lb.ListenerMutualAuthentication {
  switch (config.mode) {
    case "verify":
      return {
        mode: "verify",
        trustStoreArn,
        ignoreClientCertificateExpiry: config.ignoreClientCertificateExpiry ?? false,
        advertiseTrustStoreCaNames: config.advertiseTrustStoreCaNames ?? "off",
      };
    case "passthrough":
      return { mode: "passthrough" };
    case "off":
      return { mode: "off" };
  }
}

/** Lists the problems of an action: a forward must name a target that has a target group. */
export function actionProblems(action: RuleAction, path: string, targetGroupArns: TargetGroupArns): string[] {
  if ("forward" in action && !(action.forward in targetGroupArns)) {
    return [`"${path}.forward" names target "${action.forward}", which has no target group (known: ${Object.keys(targetGroupArns).join(", ") || "none"})`];
  }
  return [];
}

/** Maps a config action to a listener or rule action: forward to a target group, or a fixed response. */
export function actionInput(action: RuleAction, targetGroupArns: TargetGroupArns): aws.types.input.lb.ListenerDefaultAction & aws.types.input.lb.ListenerRuleAction {
  if ("forward" in action) {
    const targetGroupArn = targetGroupArns[action.forward];
    if (targetGroupArn === undefined) throw new Error(`no target group for target "${action.forward}"`);
    return { type: "forward", targetGroupArn };
  }
  const { statusCode, contentType, messageBody } = action.fixedResponse;
  return { type: "fixed-response", fixedResponse: { statusCode: String(statusCode), contentType, messageBody } };
}

/** Maps a rule's conditions to listener rule conditions, one condition element per kind, in a fixed order. */
export function conditionInputs(conditions: ListenerRule["conditions"]): aws.types.input.lb.ListenerRuleCondition[] {
  const result: aws.types.input.lb.ListenerRuleCondition[] = [];
  if (conditions.hostHeader) result.push({ hostHeader: { values: conditions.hostHeader } });
  if (conditions.pathPattern) result.push({ pathPattern: { values: conditions.pathPattern } });
  for (const header of conditions.httpHeader ?? []) result.push({ httpHeader: { httpHeaderName: header.name, values: header.values } });
  if (conditions.httpRequestMethod) result.push({ httpRequestMethod: { values: conditions.httpRequestMethod } });
  if (conditions.sourceIp) result.push({ sourceIp: { values: conditions.sourceIp.map(withPrefixLength) } });
  return result;
}

/** Adds /32 or /128 to a bare address, since ALB source-ip conditions take CIDR blocks only. */
function withPrefixLength(value: string): string {
  if (value.includes("/")) return value;
  return value.includes(":") ? `${value}/128` : `${value}/32`;
}
