/** PKI settings: where the certificates live and how new keys are made. */
import { z } from "zod";

export const keyTypes = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096", "rsa-8192"] as const;

export const pkiSchema = z.strictObject({
  dir: z
    .string()
    .min(1)
    .optional()
    .describe("State folder of the PKI, relative to the config file. Default: the \"pki\" folder in local.stateDir (\".edgelock/pki\")."),
  keyType: z.enum(keyTypes).default("ecdsa-p256").describe("Key type for new keys. Default \"ecdsa-p256\"."),
  originPullCertificate: z
    .string()
    .default("origin-pull")
    .describe("Name of the client certificate the edge presents to the origin. Default \"origin-pull\"."),
});

export type PkiConfig = z.infer<typeof pkiSchema>;
export type KeyType = (typeof keyTypes)[number];
