/**
 * Authenticated Origin Pulls per hostname: Cloudflare presents our origin-pull client certificate when it
 * connects to the origin host, and the ALB in verify mode accepts only certificates from our CA. The zone is
 * set to Full (strict), without which Cloudflare sends no client certificate, and tls_client_auth is on, as
 * Cloudflare's ALB guide sets it.
 */
import { X509Certificate } from "node:crypto";
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:cloudflare:OriginPull";

export interface OriginPullArgs {
  zoneId: pulumi.Input<string>;
  /** Origin host Cloudflare connects to, such as "origin.example.com". */
  hostname: string;
  /** Leaf client certificate in PEM (CA:FALSE); Cloudflare rejects a CA certificate here. */
  certificatePem: string;
  /** Its private key in PEM; passed to Cloudflare as a Pulumi secret. */
  privateKeyPem: string;
}

export function validateOriginPullArgs(args: OriginPullArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(args.hostname)) {
    problems.push(`"hostname" must be a lowercase host name such as "origin.example.com" (got "${args.hostname}")`);
  }
  try {
    const certificate = new X509Certificate(args.certificatePem);
    if (certificate.ca) problems.push(`"certificatePem" is a CA certificate (${certificate.subject.replace(/\n/g, ", ")}); upload the origin-pull leaf, as Cloudflare rejects a CA here`);
  } catch (error) {
    problems.push(`"certificatePem" is not a PEM certificate (${(error as Error).message})`);
  }
  if (!/-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(args.privateKeyPem)) problems.push('"privateKeyPem" is not a PEM private key');
  return problems;
}

export class OriginPull extends pulumi.ComponentResource {
  readonly certificateId: pulumi.Output<string>;

  constructor(name: string, args: OriginPullArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateOriginPullArgs(args));
    super(TYPE, name, {}, opts);

    const certificate = new cloudflare.AuthenticatedOriginPullsHostnameCertificate(`${name}-certificate`, {
      zoneId: args.zoneId,
      certificate: pulumi.secret(args.certificatePem),
      privateKey: pulumi.secret(args.privateKeyPem),
    }, { parent: this, additionalSecretOutputs: ["certificate", "privateKey"] });

    new cloudflare.AuthenticatedOriginPulls(name, {
      zoneId: args.zoneId,
      configs: [{ hostname: args.hostname, certId: certificate.id, enabled: true }],
    }, { parent: this });

    new cloudflare.ZoneSetting(`${name}-ssl`, { zoneId: args.zoneId, settingId: "ssl", value: "strict" }, { parent: this });
    new cloudflare.ZoneSetting(`${name}-tls-client-auth`, { zoneId: args.zoneId, settingId: "tls_client_auth", value: "on" }, { parent: this });

    this.certificateId = certificate.id;
    this.registerOutputs({ certificateId: this.certificateId });
  }
}
