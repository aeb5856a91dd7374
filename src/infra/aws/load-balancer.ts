/**
 * The internet-facing ALB Cloudflare connects to, with the hardening attributes from the config. Its security
 * group admits port 443 from Cloudflare's published ranges only. Access and connection logs go to a private
 * bucket, and Route 53 alias records publish the origin host.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlbConfig } from "../../config/index.ts";
import { rejectInvalidArgs } from "../errors.ts";
import { PrivateBucket } from "./private-bucket.ts";

const TYPE = "edgelock:aws:LoadBalancer";
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const OPEN_RANGES = new Set(["0.0.0.0/0", "::/0"]);

/** One egress rule towards an HTTP backend, opened only to the backend's security group. */
export interface BackendEgress {
  /** Target name from the config, for the rule description. */
  target: string;
  port: number;
  securityGroupId: string;
}

export interface LoadBalancerArgs {
  vpcId: pulumi.Input<string>;
  /** Public subnets in at least two availability zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Cloudflare's IPv4 ranges, from `cloudflare.getIpRangesOutput().ipv4Cidrs`. */
  ingressIpv4Cidrs: pulumi.Input<string[]>;
  /** Cloudflare's IPv6 ranges, from `cloudflare.getIpRangesOutput().ipv6Cidrs`. */
  ingressIpv6Cidrs: pulumi.Input<string[]>;
  /** Egress to HTTP backends; none for Lambda targets, which the ALB invokes through the Lambda API. */
  backendEgress: BackendEgress[];
  /** Load balancer attributes from `alb.attributes`. */
  attributes: AlbConfig["attributes"];
  /** "dualstack" also publishes an AAAA alias; the subnets then need IPv6 CIDR blocks. */
  ipAddressType: "ipv4" | "dualstack";
  /** Origin host name the alias records publish, such as "origin.example.com". */
  originHost: string;
  /** Route 53 hosted zone of the origin host. */
  zoneId: pulumi.Input<string>;
}

function validate(args: LoadBalancerArgs): string[] {
  const problems: string[] = [];
  if (args.ipAddressType !== "ipv4" && args.ipAddressType !== "dualstack") problems.push(`"ipAddressType" must be "ipv4" or "dualstack" (got "${String(args.ipAddressType)}")`);
  if (!["monitor", "defensive", "strictest"].includes(args.attributes.desyncMitigationMode)) {
    problems.push(`"attributes.desyncMitigationMode" must be "monitor", "defensive" or "strictest" (got "${args.attributes.desyncMitigationMode}")`);
  }
  if (args.attributes.idleTimeoutSeconds < 1 || args.attributes.idleTimeoutSeconds > 4000) problems.push(`"attributes.idleTimeoutSeconds" must be from 1 to 4000 (got ${args.attributes.idleTimeoutSeconds})`);
  args.backendEgress.forEach((egress, index) => {
    if (!Number.isInteger(egress.port) || egress.port < 1 || egress.port > 65535) problems.push(`"backendEgress[${index}].port" must be a TCP port (got ${egress.port})`);
    if (!SECURITY_GROUP_ID.test(egress.securityGroupId)) problems.push(`"backendEgress[${index}].securityGroupId" must be a security group id such as "sg-0123456789abcdef0" (got "${egress.securityGroupId}")`);
  });
  return problems;
}

/** Fails the deployment if a range would open the listener to the whole internet. */
function closedRanges(ranges: pulumi.Input<string[]>, family: string): pulumi.Output<string[]> {
  return pulumi.output(ranges).apply((values) => {
    const open = values.filter((value) => OPEN_RANGES.has(value));
    if (open.length > 0) throw new Error(`Cloudflare ${family} ranges include ${open.join(", ")}; refusing to open port 443 to every address`);
    if (values.length === 0) throw new Error(`Cloudflare ${family} ranges are empty; refusing to deploy a listener Cloudflare cannot reach`);
    return values;
  });
}

export class LoadBalancer extends pulumi.ComponentResource {
  readonly loadBalancerArn: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;
  readonly logsBucketName: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validate(args));
    super(TYPE, name, {}, opts);

    if (!args.attributes.dropInvalidHeaderFields) pulumi.log.warn("alb.attributes.dropInvalidHeaderFields is false: headers with invalid names reach the targets", this);

    const securityGroup = new aws.ec2.SecurityGroup(`${name}-sg`, {
      vpcId: args.vpcId,
      description: "HTTPS from Cloudflare only",
      ingress: [
        { description: "HTTPS from Cloudflare IPv4", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: closedRanges(args.ingressIpv4Cidrs, "IPv4") },
        { description: "HTTPS from Cloudflare IPv6", protocol: "tcp", fromPort: 443, toPort: 443, ipv6CidrBlocks: closedRanges(args.ingressIpv6Cidrs, "IPv6") },
      ],
      // An empty list removes AWS's default allow-all egress rule.
      egress: args.backendEgress.map((egress) => ({
        description: `to target ${egress.target}`,
        protocol: "tcp",
        fromPort: egress.port,
        toPort: egress.port,
        securityGroups: [egress.securityGroupId],
      })),
    }, { parent: this });

    const account = aws.getCallerIdentityOutput({}, { parent: this });
    const elbAccount = aws.elb.getServiceAccountOutput({}, { parent: this });
    // Regions opened since August 2022 deliver logs as the service principal, and older ones as a regional ELB account.
    // NOTE: untested against AWS whether getServiceAccount answers in the newest regions; if it fails there, grant
    // the service principal alone.
    const logs = new PrivateBucket(`${name}-logs`, {
      versioning: true,
      statements: (bucketArn) =>
        pulumi.all([bucketArn, account.accountId, elbAccount.arn]).apply(([arn, accountId, elbArn]) => [
          {
            Sid: "ElbLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com", AWS: elbArn },
            Action: "s3:PutObject",
            Resource: `${arn}/*/AWSLogs/${accountId}/*`,
          },
        ]),
    }, { parent: this });

    const attributes = args.attributes;
    const loadBalancer = new aws.lb.LoadBalancer(name, {
      loadBalancerType: "application",
      internal: false,
      ipAddressType: args.ipAddressType,
      securityGroups: [securityGroup.id],
      subnets: args.subnetIds,
      dropInvalidHeaderFields: attributes.dropInvalidHeaderFields,
      desyncMitigationMode: attributes.desyncMitigationMode,
      xffHeaderProcessingMode: attributes.xffHeaderProcessingMode,
      enableXffClientPort: attributes.xffClientPort,
      enableTlsVersionAndCipherSuiteHeaders: attributes.tlsVersionAndCipherSuiteHeaders,
      preserveHostHeader: attributes.preserveHostHeader,
      idleTimeout: attributes.idleTimeoutSeconds,
      enableHttp2: attributes.http2,
      accessLogs: { bucket: logs.bucketName, prefix: "access", enabled: true },
      connectionLogs: { bucket: logs.bucketName, prefix: "connection", enabled: true },
    }, { parent: this, dependsOn: logs.ready });

    const aliasTypes = args.ipAddressType === "dualstack" ? ["A", "AAAA"] : ["A"];
    for (const type of aliasTypes) {
      new aws.route53.Record(`${name}-${type.toLowerCase()}`, {
        zoneId: args.zoneId,
        name: args.originHost,
        type,
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
      }, { parent: this });
    }

    this.loadBalancerArn = loadBalancer.arn;
    this.dnsName = loadBalancer.dnsName;
    this.securityGroupId = securityGroup.id;
    this.logsBucketName = logs.bucketName;
    this.registerOutputs({ loadBalancerArn: this.loadBalancerArn, dnsName: this.dnsName, securityGroupId: this.securityGroupId, logsBucketName: this.logsBucketName });
  }
}
