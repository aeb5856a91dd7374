/**
 * Settings of the local stack only: hosts and ports on loopback, the state folder, and switches for the points
 * where the real services' behaviour is not documented (each with the recommended default).
 */
import { isIP } from "node:net";
import { z } from "zod";
import { hostName, port } from "./common.ts";

export const localEdgeSchema = z.strictObject({
  host: hostName.default("app.localhost").describe("Local app host. Default \"app.localhost\"."),
  teamHost: hostName.default("team.localhost").describe("Local team domain host (login page, JWKS). Default \"team.localhost\"."),
  port: port.default(8443).describe("HTTPS port of the local edge. Default 8443."),
  country: z.string().regex(/^[A-Z]{2}$/).default("JP").describe("Value of CF-IPCountry and the token's country claim. Default \"JP\"."),
  colo: z.string().regex(/^[A-Z]{3}$/).default("NRT").describe("IATA code at the end of CF-Ray. Default \"NRT\"."),
  sslMode: z.enum(["full", "strict"]).default("strict").describe("Origin certificate validation: \"strict\" is Full (strict). Default \"strict\"."),
  otp: z
    .strictObject({
      length: z.number().int().min(6).max(10).default(6).describe("Digits in a one-time PIN. Default 6."),
      ttlSeconds: z.number().int().min(60).max(3600).default(600).describe("PIN lifetime in seconds. Default 600 (10 minutes)."),
      maxAttempts: z.number().int().min(1).max(20).default(5).describe("Wrong PINs before the PIN is locked. Default 5."),
    })
    .default({ length: 6, ttlSeconds: 600, maxAttempts: 5 }),
  keyRotationGraceDays: z.number().int().min(0).max(90).default(7).describe("Days a previous signing key stays in the JWKS after rotation. Default 7."),
  stripClientAccessHeadersOnBypass: z
    .boolean()
    .default(true)
    .describe("Removes client-sent Cf-Access-* headers on Bypass paths too. false passes them on, for negative tests. Default true."),
  clientIp: z
    .string()
    .refine((value) => isIP(value) !== 0, { message: "must be an IPv4 or IPv6 address, such as \"203.0.113.7\"" })
    .optional()
    .describe("Client address the edge reports (CF-Connecting-IP, policy ip selectors) instead of the socket's loopback address. Default: the socket address."),
  originConnectTimeoutSeconds: z
    .number()
    .min(0.1)
    .max(120)
    .default(19)
    .describe("Seconds to wait for the origin's TCP and TLS handshake before answering 522. Default 19, as Cloudflare."),
  originResponseTimeoutSeconds: z
    .number()
    .min(1)
    .max(6000)
    .default(100)
    .describe("Seconds to wait for the origin's response headers before answering 524. Default 100, as Cloudflare."),
  forbiddenStatus: z
    .union([z.literal(401), z.literal(403)])
    .default(403)
    .describe("Status of the edge's Forbidden page when no policy could pass. Default 403."),
});

export const localAlbSchema = z.strictObject({
  host: hostName.default("alb.localhost").describe("Local listener host. Default \"alb.localhost\"."),
  port: port.default(9443).describe("HTTPS port of the local listener. Default 9443."),
  verifyFailure: z
    .enum(["reset", "alert"])
    .default("reset")
    .describe(
      "How a failed verify ends the connection, always without an HTTP response: \"reset\" sends a TCP reset; \"alert\" closes TLS with a close_notify alert, because Node cannot send an error alert after the handshake. Default \"reset\".",
    ),
  noCertificateReason: z
    .enum(["ClientCertRejected", "UnmappedConnectionError"])
    .default("ClientCertRejected")
    .describe("Connection-log code when no client certificate was sent. Default \"ClientCertRejected\"."),
  maxChainDepth: z.number().int().min(1).max(10).default(4).describe("Maximum chain depth, leaf and anchor included. Default 4."),
  requireSelfSignedAnchor: z.boolean().default(false).describe("Only a self-signed root in the trust store may anchor a chain. Default false."),
  ignoreExpiryForIntermediates: z.boolean().default(false).describe("With ignoreClientCertificateExpiry, also accept expired intermediates. Default false."),
  checkCrlNextUpdate: z.boolean().default(false).describe("Rejects clients when a CRL is past nextUpdate. Default false, as the ALB is believed to ignore it."),
  passClientSuppliedMtlsHeaders: z.boolean().default(false).describe("Passes client-sent X-Amzn-Mtls-* headers on. Default false (stripped)."),
  encodePaddingInPem: z.boolean().default(false).describe("Encodes \"=\" as %3D in PEM headers. Default false."),
  strictLambdaHeadersKey: z.boolean().default(false).describe("A response header key that does not match the multi-value mode gives 502. Default false (dropped with a warning)."),
});

export const localSchema = z.strictObject({
  stateDir: z.string().min(1).default(".edgelock").describe("State folder of the local stack: keys, logs, outbox. Default \".edgelock\"."),
  edge: localEdgeSchema.default(localEdgeSchema.parse({})),
  alb: localAlbSchema.default(localAlbSchema.parse({})),
});

export type LocalConfig = z.infer<typeof localSchema>;
export type LocalEdgeConfig = z.infer<typeof localEdgeSchema>;
export type LocalAlbConfig = z.infer<typeof localAlbSchema>;
