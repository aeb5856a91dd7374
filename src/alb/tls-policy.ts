/**
 * ALB security policies as Node TLS options. The protocol and cipher lists are those AWS publishes for
 * ELBSecurityPolicy-TLS13-1-2-2021-06 and its restricted variant ("Security policies for your Application Load
 * Balancer"). With mTLS on, the ALB offers no session resumption, so tickets and the session cache are off.
 */
import { constants } from "node:crypto";

export type SslPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06" | "ELBSecurityPolicy-TLS13-1-2-Res-2021-06";

const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];

const TLS12_CIPHERS: Record<SslPolicy, string[]> = {
  "ELBSecurityPolicy-TLS13-1-2-2021-06": [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA384",
    "ECDHE-RSA-AES256-SHA384",
  ],
  "ELBSecurityPolicy-TLS13-1-2-Res-2021-06": [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
  ],
};

/** The TLS options for a policy. Node's `ciphers` takes the TLS 1.3 suites and the TLS 1.2 ciphers in one list. */
export interface PolicyTlsOptions {
  minVersion: "TLSv1.2";
  maxVersion: "TLSv1.3";
  ciphers: string;
  honorCipherOrder: true;
  secureOptions: number;
  /** Seconds a cached session stays resumable; 0 with mTLS. */
  sessionTimeout?: number;
}

/** Returns the TLS options of a policy; `mutualTls` turns off tickets and resumption. */
export function tlsOptionsForPolicy(policy: SslPolicy, mutualTls: boolean): PolicyTlsOptions {
  const options: PolicyTlsOptions = {
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS[policy]].join(":"),
    honorCipherOrder: true,
    secureOptions: mutualTls ? constants.SSL_OP_NO_TICKET : 0,
  };
  if (mutualTls) options.sessionTimeout = 0;
  return options;
}
