/**
 * The ALB's server certificate: an ACM certificate for the origin host, validated by a DNS record in Route 53.
 * Cloudflare in Full (strict) mode accepts it because ACM certificates chain to a public CA and name the host
 * Cloudflare connects to.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:aws:Certificate";
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

export interface CertificateArgs {
  /** Host name the certificate names, such as "origin.example.com". */
  domainName: string;
  /** Route 53 hosted zone for the validation record. */
  zoneId: pulumi.Input<string>;
}

export class Certificate extends pulumi.ComponentResource {
  /** ARN of the certificate, resolved only after ACM has validated it. */
  readonly certificateArn: pulumi.Output<string>;

  constructor(name: string, args: CertificateArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const problems: string[] = [];
    if (!HOST_NAME.test(args.domainName)) problems.push(`"domainName" must be a lowercase host name with a dot, such as "origin.example.com" (got "${args.domainName}")`);
    rejectInvalidArgs(TYPE, name, problems);
    super(TYPE, name, {}, opts);

    const certificate = new aws.acm.Certificate(name, {
      domainName: args.domainName,
      validationMethod: "DNS",
    }, { parent: this });

    // One name gives one validation option; ACM reuses the record for a renewal, so overwriting it is safe.
    const option = certificate.domainValidationOptions.apply((options) => options[0]);
    const record = new aws.route53.Record(`${name}-validation`, {
      zoneId: args.zoneId,
      name: option.apply((value) => value?.resourceRecordName ?? ""),
      type: option.apply((value) => value?.resourceRecordType ?? "CNAME"),
      records: [option.apply((value) => value?.resourceRecordValue ?? "")],
      ttl: 300,
      allowOverwrite: true,
    }, { parent: this });

    const validation = new aws.acm.CertificateValidation(`${name}-validation`, {
      certificateArn: certificate.arn,
      validationRecordFqdns: [record.fqdn],
    }, { parent: this });

    this.certificateArn = validation.certificateArn;
    this.registerOutputs({ certificateArn: this.certificateArn });
  }
}
