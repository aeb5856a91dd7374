/** The listener rules from `alb.rules`: each with its priority, its conditions and a forward or fixed-response action. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ListenerRule } from "../../config/index.ts";
import { rejectInvalidArgs } from "../errors.ts";
import { actionInput, actionProblems, conditionInputs, type TargetGroupArns } from "./actions.ts";

const TYPE = "edgelock:aws:ListenerRules";

export interface ListenerRulesArgs {
  listenerArn: pulumi.Input<string>;
  rules: ListenerRule[];
  targetGroupArns: TargetGroupArns;
}

export function validateListenerRulesArgs(args: ListenerRulesArgs): string[] {
  const problems: string[] = [];
  const seen = new Map<number, number>();
  args.rules.forEach((rule, index) => {
    if (!Number.isInteger(rule.priority) || rule.priority < 1 || rule.priority > 50000) problems.push(`"rules[${index}].priority" must be an integer from 1 to 50000 (got ${rule.priority})`);
    const earlier = seen.get(rule.priority);
    if (earlier !== undefined) problems.push(`"rules[${index}].priority" ${rule.priority} is already used by rules[${earlier}]`);
    seen.set(rule.priority, index);
    if (conditionInputs(rule.conditions).length === 0) problems.push(`"rules[${index}].conditions" must hold at least one condition`);
    problems.push(...actionProblems(rule.action, `rules[${index}].action`, args.targetGroupArns));
  });
  return problems;
}

export class ListenerRules extends pulumi.ComponentResource {
  readonly ruleArns: pulumi.Output<string>[];

  constructor(name: string, args: ListenerRulesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateListenerRulesArgs(args));
    super(TYPE, name, {}, opts);

    this.ruleArns = args.rules.map((rule) => {
      const listenerRule = new aws.lb.ListenerRule(`${name}-${rule.priority}`, {
        listenerArn: args.listenerArn,
        priority: rule.priority,
        conditions: conditionInputs(rule.conditions),
        actions: [actionInput(rule.action, args.targetGroupArns)],
      }, { parent: this });
      return listenerRule.arn;
    });
    this.registerOutputs({ ruleArns: this.ruleArns });
  }
}
