/**
 * Targets behind the listener rules: the in-process Lambda function (the echo function by default) or an HTTP
 * upstream (a container, an instance or a local dev server).
 */
import { z } from "zod";

export const healthCheckSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("Runs health checks. Default true for HTTP targets."),
  path: z.string().startsWith("/").default("/").describe("Request path. Default \"/\"."),
  intervalSeconds: z.number().int().min(5).max(300).default(30).describe("Seconds between checks. Default 30."),
  timeoutSeconds: z.number().int().min(2).max(120).default(5).describe("Seconds before a check fails. Default 5."),
  healthyThreshold: z.number().int().min(2).max(10).default(5).describe("Consecutive successes to become healthy. Default 5."),
  unhealthyThreshold: z.number().int().min(2).max(10).default(2).describe("Consecutive failures to become unhealthy. Default 2."),
  matcher: z.string().regex(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/).default("200").describe("Healthy status codes, such as \"200\" or \"200-299\". Default \"200\"."),
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
