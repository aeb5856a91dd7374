/**
 * Application Load Balancer settings: the HTTPS listener with its mutual TLS block, load balancer attributes,
 * header renames and listener rules. The local listener and the Pulumi program read the same values.
 */
import { z } from "zod";
import { cidr } from "./common.ts";

export const sslPolicies = [
  "ELBSecurityPolicy-TLS13-1-2-2021-06",
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
] as const;

export const mutualAuthenticationSchema = z
  .strictObject({
    mode: z.enum(["off", "passthrough", "verify"]).default("verify").describe("Client certificate handling. Default \"verify\"."),
    ignoreClientCertificateExpiry: z
      .boolean()
      .optional()
      .describe("verify only: accept a leaf past notAfter. Default false in verify mode; not allowed with other modes."),
    advertiseTrustStoreCaNames: z
      .enum(["on", "off"])
      .optional()
      .describe("verify only: list the trust store's CA names in the CertificateRequest. Default \"off\"."),
  })
  .superRefine((value, context) => {
    if (value.mode === "passthrough" && value.ignoreClientCertificateExpiry !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["ignoreClientCertificateExpiry"],
        message: "Mutual Authentication mode passthrough does not support ignoring certificate expiry; remove ignoreClientCertificateExpiry or use mode \"verify\"",
      });
    }
    if (value.mode !== "verify" && value.advertiseTrustStoreCaNames !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["advertiseTrustStoreCaNames"],
        message: `advertiseTrustStoreCaNames applies only to mode "verify" (got mode "${value.mode}"); remove it`,
      });
    }
    if (value.mode === "off" && value.ignoreClientCertificateExpiry !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["ignoreClientCertificateExpiry"],
        message: "mode \"off\" takes no other mutual authentication attribute; remove ignoreClientCertificateExpiry",
      });
    }
  });

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,1024}$/, { message: "must contain only letters, digits and \"-\"" });

export const headerNamesSchema = z
  .strictObject({
    clientCert: headerName.default("X-Amzn-Mtls-Clientcert"),
    serialNumber: headerName.default("X-Amzn-Mtls-Clientcert-Serial-Number"),
    issuer: headerName.default("X-Amzn-Mtls-Clientcert-Issuer"),
    subject: headerName.default("X-Amzn-Mtls-Clientcert-Subject"),
    validity: headerName.default("X-Amzn-Mtls-Clientcert-Validity"),
    leaf: headerName.default("X-Amzn-Mtls-Clientcert-Leaf"),
    tlsVersion: headerName.default("X-Amzn-Tls-Version"),
    tlsCipherSuite: headerName.default("X-Amzn-Tls-Cipher-Suite"),
  })
  .describe("Names of the headers the listener adds, as the routing.http.request.*.header_name listener attributes set them. Defaults: the AWS names.");

export const attributesSchema = z.strictObject({
  dropInvalidHeaderFields: z.boolean().default(true).describe("Removes request headers whose names do not match ^[-A-Za-z0-9]+$. Default true (AWS default false)."),
  desyncMitigationMode: z.enum(["monitor", "defensive", "strictest"]).default("defensive").describe("HTTP desync mitigation. Default \"defensive\"."),
  xffHeaderProcessingMode: z.enum(["append", "preserve", "remove"]).default("append").describe("X-Forwarded-For handling. Default \"append\"."),
  xffClientPort: z.boolean().default(false).describe("With append, adds the client port as ip:port. Default false."),
  tlsVersionAndCipherSuiteHeaders: z.boolean().default(false).describe("Adds X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite. Default false."),
  preserveHostHeader: z.boolean().default(false).describe("Forwards the Host header unchanged. Default false."),
  idleTimeoutSeconds: z.number().int().min(1).max(4000).default(60).describe("Idle connection timeout in seconds. Default 60."),
  http2: z.boolean().default(true).describe("Offers HTTP/2 by ALPN. Default true."),
});

const wildcardValue = z.string().min(1).max(128);

export const conditionsSchema = z
  .strictObject({
    pathPattern: z.array(wildcardValue).min(1).max(5).optional().describe("Case-sensitive path patterns with * and ?."),
    hostHeader: z.array(wildcardValue).min(1).max(5).optional().describe("Case-insensitive host patterns with * and ?."),
    httpHeader: z
      .array(z.strictObject({ name: z.string().regex(/^[A-Za-z0-9-]+$/), values: z.array(wildcardValue).min(1).max(5) }))
      .optional()
      .describe("Header name (exact, case-insensitive) and value patterns."),
    httpRequestMethod: z.array(z.string().regex(/^[A-Z_-]+$/)).min(1).max(5).optional().describe("Exact, case-sensitive methods."),
    sourceIp: z.array(cidr).min(1).max(5).optional().describe("CIDR blocks matched against the socket address."),
  })
  .refine((conditions) => Object.values(conditions).some((value) => value !== undefined), {
    message: "a rule needs at least one condition",
  });

export const fixedResponseSchema = z.strictObject({
  statusCode: z.number().int().refine((code) => /^(2|4|5)\d\d$/.test(String(code)), { message: "must be a 2XX, 4XX or 5XX status" }),
  contentType: z.enum(["text/plain", "text/css", "text/html", "application/javascript", "application/json"]).default("text/plain"),
  messageBody: z.string().max(1024).default(""),
});

export const actionSchema = z.union([
  z.strictObject({ forward: z.string().min(1).describe("Name of a target in `targets`.") }),
  z.strictObject({ fixedResponse: fixedResponseSchema }),
]);

export const ruleSchema = z.strictObject({
  priority: z.number().int().min(1).max(50000).describe("Lower runs first; unique per listener."),
  conditions: conditionsSchema,
  action: actionSchema,
});

export const albSchema = z.strictObject({
  sslPolicy: z.enum(sslPolicies).default("ELBSecurityPolicy-TLS13-1-2-2021-06").describe("TLS security policy of the HTTPS listener."),
  mutualAuthentication: mutualAuthenticationSchema.default({ mode: "verify" }),
  attributes: attributesSchema.default(attributesSchema.parse({})),
  headerNames: headerNamesSchema.default(headerNamesSchema.parse({})),
  rules: z
    .array(ruleSchema)
    .max(100)
    .default([{ priority: 100, conditions: { pathPattern: ["/*"] }, action: { forward: "echo" } }])
    .describe("Listener rules. Default: path \"/*\" at priority 100 forwards to the \"echo\" target."),
  defaultAction: actionSchema
    .default({ fixedResponse: { statusCode: 404, contentType: "text/plain", messageBody: "Not Found" } })
    .describe("Action when no rule matches. Default fixed response 404 \"Not Found\"."),
});

export type AlbConfig = z.infer<typeof albSchema>;
export type ListenerRule = z.infer<typeof ruleSchema>;
export type RuleAction = z.infer<typeof actionSchema>;
export type MutualAuthentication = z.infer<typeof mutualAuthenticationSchema>;
export type HeaderNames = z.infer<typeof headerNamesSchema>;
