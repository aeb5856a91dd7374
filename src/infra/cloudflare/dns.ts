/**
 * The public app host: a proxied CNAME to the origin host, so requests pass Cloudflare's edge (Access and
 * Authenticated Origin Pulls) before they reach the ALB. TTL 1 means automatic, the only TTL of proxied records.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:cloudflare:ProxiedHostname";
const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

export interface ProxiedHostnameArgs {
  zoneId: pulumi.Input<string>;
  /** Public host users open, such as "app.example.com". */
  hostname: string;
  /** Origin host the record points at, such as "origin.example.com". */
  target: string;
}

export class ProxiedHostname extends pulumi.ComponentResource {
  readonly recordId: pulumi.Output<string>;

  constructor(name: string, args: ProxiedHostnameArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const problems: string[] = [];
    if (!HOST_NAME.test(args.hostname)) problems.push(`"hostname" must be a lowercase host name such as "app.example.com" (got "${args.hostname}")`);
    if (!HOST_NAME.test(args.target)) problems.push(`"target" must be a lowercase host name such as "origin.example.com" (got "${args.target}")`);
    if (args.hostname === args.target) problems.push(`"hostname" and "target" are both "${args.hostname}"; the app host must point at a separate origin host`);
    rejectInvalidArgs(TYPE, name, problems);
    super(TYPE, name, {}, opts);

    const record = new cloudflare.DnsRecord(name, {
      zoneId: args.zoneId,
      name: args.hostname,
      type: "CNAME",
      content: args.target,
      proxied: true,
      ttl: 1,
      comment: "edgelock: app host behind Cloudflare Access",
    }, { parent: this });

    this.recordId = record.id;
    this.registerOutputs({ recordId: this.recordId });
  }
}
