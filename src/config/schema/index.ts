/** The one configuration file, read by the local stack and by the Pulumi program. */
import { z } from "zod";
import { accessSchema, hostsSchema } from "./access.ts";
import { albSchema } from "./alb.ts";
import { localSchema } from "./local.ts";
import { pkiSchema } from "./pki.ts";
import { targetSchema } from "./targets.ts";

export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path of the JSON schema, for editors."),
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,20}$/, { message: "must start with a letter and use lowercase letters, digits and \"-\" (at most 21)" })
      .default("edgelock")
      .describe("Prefix of the deployed resource names. Default \"edgelock\"."),
    hosts: hostsSchema.default(hostsSchema.parse({})),
    access: accessSchema,
    alb: albSchema.default(albSchema.parse({})),
    targets: z
      .record(z.string().regex(/^[a-z][a-z0-9-]*$/), targetSchema)
      .default({ echo: { type: "lambda", handler: "echo", multiValueHeaders: false, timeoutSeconds: 10, memoryMb: 256, requireAccessToken: true } })
      .describe("Targets by name. Default: the \"echo\" Lambda function."),
    pki: pkiSchema.default(pkiSchema.parse({})),
    local: localSchema.default(localSchema.parse({})),
  })
  .superRefine((config, context) => {
    const rules = [...config.alb.rules.map((rule, index) => ({ action: rule.action, path: ["alb", "rules", index, "action", "forward"] }))];
    rules.push({ action: config.alb.defaultAction, path: ["alb", "defaultAction", "forward"] });
    for (const { action, path } of rules) {
      if ("forward" in action && !(action.forward in config.targets)) {
        context.addIssue({
          code: "custom",
          path,
          message: `forwards to target "${action.forward}", which is not in targets (known: ${Object.keys(config.targets).join(", ") || "none"})`,
        });
      }
    }
    const priorities = new Map<number, number>();
    config.alb.rules.forEach((rule, index) => {
      if (priorities.has(rule.priority)) {
        context.addIssue({ code: "custom", path: ["alb", "rules", index, "priority"], message: `priority ${rule.priority} is already used by alb.rules[${priorities.get(rule.priority)}]` });
      }
      priorities.set(rule.priority, index);
    });
  });

export type EdgelockConfig = z.infer<typeof configSchema>;
export type EdgelockConfigInput = z.input<typeof configSchema>;
export * from "./access.ts";
export * from "./alb.ts";
export * from "./targets.ts";
export * from "./pki.ts";
export * from "./local.ts";
export { durationSeconds } from "./common.ts";
