/**
 * Targets behind the listener rules: the in-process Lambda function (the echo function by default) or an HTTP
 * upstream (a container, an instance or a local dev server).
 */
import { z } from "zod";

/** Health checks of an HTTP target group, with the ranges and defaults of CreateTargetGroup for ALB target groups. */
export const healthCheckSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Must stay true: the ALB cannot turn off health checks of instance and IP target groups. Default true."),
    path: z.string().startsWith("/").max(1024).default("/").describe("Path and optional query of the GET, up to 1024 characters. Default \"/\"."),
    intervalSeconds: z.number().int().min(5).max(300).default(30).describe("Seconds between checks, 5-300. Default 30."),
    timeoutSeconds: z.number().int().min(2).max(120).default(5).describe("Seconds before a check fails, 2-120 and below intervalSeconds. Default 5."),
    healthyThreshold: z.number().int().min(2).max(10).default(5).describe("Consecutive successes to become healthy again, 2-10. Default 5."),
    unhealthyThreshold: z.number().int().min(2).max(10).default(2).describe("Consecutive failures to become unhealthy, 2-10. Default 2."),
    matcher: z
      .string()
      .regex(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/, { message: "must be codes such as \"200\", \"200-299\" or \"200,302\"" })
      .default("200")
      .describe("Healthy status codes from 200 to 499, such as \"200\", \"200-299\" or \"200,302\". Default \"200\"."),
  })
  .superRefine((check, context) => {
    if (!check.enabled) {
      context.addIssue({ code: "custom", path: ["enabled"], message: "must be true: the ALB cannot turn off health checks of instance and IP target groups; remove \"enabled\"" });
    }
    // NOTE: the guide does not state this rule; CreateTargetGroup is believed to reject such a pair, and a check that
    // outlasts its interval would overlap the next one.
    if (check.timeoutSeconds >= check.intervalSeconds) {
      context.addIssue({ code: "custom", path: ["timeoutSeconds"], message: `must be less than intervalSeconds (got ${check.timeoutSeconds} with an interval of ${check.intervalSeconds})` });
    }
    for (const part of check.matcher.split(",")) {
      const [low = 0, high = low] = part.split("-").map(Number);
      if (low < 200 || high > 499 || low > high) {
        context.addIssue({ code: "custom", path: ["matcher"], message: `must use codes from 200 to 499, ranges written low-high (got "${part}")` });
      }
    }
  });

export const lambdaTargetSchema = z.strictObject({
  type: z.literal("lambda"),
  handler: z
    .string()
    .default("echo")
    .describe("\"echo\" for the built-in echo function, or a path to a module exporting `handler`. Default \"echo\"."),
  multiValueHeaders: z.boolean().default(false).describe("Target-group attribute lambda.multi_value_headers.enabled. Default false."),
  timeoutSeconds: z.number().int().min(1).max(900).default(10).describe("Function timeout in seconds. Default 10."),
  memoryMb: z.number().int().min(128).max(10240).default(256).describe("Deployed function memory in MB. Default 256."),
  requireAccessToken: z
    .boolean()
    .default(true)
    .describe("The echo function answers 401 unless Cf-Access-Jwt-Assertion is valid. false reproduces the reference deployment. Default true."),
});

export const httpTargetSchema = z.strictObject({
  type: z.literal("http"),
  url: z.string().url().describe("Local upstream base URL, such as \"http://127.0.0.1:3000\"."),
  healthCheck: healthCheckSchema.default(healthCheckSchema.parse({})),
  deployed: z
    .strictObject({
      targetType: z.enum(["ip", "instance"]).describe("Target group type for the deployed service."),
      vpcId: z.string().min(1).describe("VPC of the service."),
      port: z.number().int().min(1).max(65535).describe("Port the service listens on."),
      protocol: z.enum(["HTTP", "HTTPS"]).default("HTTP"),
      targets: z.array(z.string().min(1)).default([]).describe("IP addresses or instance ids to register."),
      securityGroupId: z.string().optional().describe("The backend's security group, opened to the ALB only."),
    })
    .optional()
    .describe("Where the service runs when deployed. Required by the Pulumi program for HTTP targets."),
});

export const targetSchema = z.discriminatedUnion("type", [lambdaTargetSchema, httpTargetSchema]);

export type TargetConfig = z.infer<typeof targetSchema>;
export type LambdaTargetConfig = z.infer<typeof lambdaTargetSchema>;
export type HttpTargetConfig = z.infer<typeof httpTargetSchema>;
