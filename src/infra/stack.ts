/**
 * The whole deployment in request order: Cloudflare Access and the origin-pull certificate at the edge, then the
 * ALB (security group, trust store, certificate, HTTPS listener with mTLS), its rules and targets. Every check
 * runs before the first resource, so a bad configuration changes nothing.
 */
import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import type { EdgelockConfig } from "../config/index.ts";
import { rejectInvalidArgs } from "./errors.ts";
import type { PkiFiles } from "./pki-files.ts";
import type { TargetGroupArns } from "./aws/actions.ts";
import { Certificate } from "./aws/certificate.ts";
import { EdgelockFunction } from "./aws/function.ts";
import { HttpTarget, validateHttpTarget } from "./aws/http-target.ts";
import { LambdaTarget } from "./aws/lambda-target.ts";
import { Listener, validateListenerArgs } from "./aws/listener.ts";
import { ListenerRules, validateListenerRulesArgs } from "./aws/listener-rules.ts";
import { LoadBalancer, type BackendEgress } from "./aws/load-balancer.ts";
import { TrustStore, validateTrustStoreArgs } from "./aws/trust-store.ts";
import { Access, applicationDomain, validateAccessArgs } from "./cloudflare/access.ts";
import { ProxiedHostname } from "./cloudflare/dns.ts";
import { OriginPull, validateOriginPullArgs } from "./cloudflare/origin-pull.ts";

const TYPE = "edgelock:index:Stack";

/** Facts about the accounts the stack deploys into; the program reads them from Pulumi stack config. */
export interface StackEnvironment {
  /** Route 53 hosted zone of the origin host. */
  route53ZoneId: pulumi.Input<string>;
  /** Cloudflare zone of the app host and the origin host. */
  cloudflareZoneId: pulumi.Input<string>;
  /** Cloudflare account that owns the Zero Trust organisation. */
  cloudflareAccountId: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  /** Public subnets for the ALB, in at least two availability zones. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** "dualstack" (default) publishes A and AAAA aliases; "ipv4" only A. */
  ipAddressType: "ipv4" | "dualstack";
}

export interface EdgelockStackArgs {
  config: EdgelockConfig;
  environment: StackEnvironment;
  pki: PkiFiles;
  /** Code archive of each `lambda` target, by target name. */
  functionCode: Record<string, pulumi.Input<pulumi.asset.Archive>>;
}

/** Lists every problem the components would reject, so none of them starts creating resources. */
export function validateStack(args: EdgelockStackArgs): string[] {
  const { config } = args;
  const problems: string[] = [];

  const covering = config.access.applications.filter((application) => {
    const domain = applicationDomain(application, config.hosts.app);
    return domain === config.hosts.app || domain === `${config.hosts.app}/*`;
  });
  if (covering.length === 0) {
    problems.push(`hosts.app "${config.hosts.app}" has no Access application covering every path; add an application without "domain" or with domain "${config.hosts.app}"`);
  }
  if (config.hosts.app === config.hosts.origin) problems.push(`hosts.app and hosts.origin are both "${config.hosts.app}"; Cloudflare needs a separate origin host`);

  for (const [name, target] of Object.entries(config.targets)) {
    if (target.type === "http") problems.push(...validateHttpTarget(target.deployed, `targets.${name}.deployed`));
    if (target.type === "lambda" && args.functionCode[name] === undefined) problems.push(`targets.${name} has no bundled code`);
  }
  problems.push(...validateTrustStoreArgs({ bundlePem: args.pki.bundlePem, crlPem: args.pki.crlPem }).map((problem) => `PKI: ${problem}`));
  problems.push(
    ...validateOriginPullArgs({ zoneId: "", hostname: config.hosts.origin, certificatePem: args.pki.originPullCertificatePem, privateKeyPem: args.pki.originPullKeyPem })
      .map((problem) => `origin pull: ${problem}`),
  );
  problems.push(...validateAccessArgs({ accountId: "", access: config.access, defaultDomain: config.hosts.app, namePrefix: config.name }));

  // Listener and rules see the target groups the stack will create: one per Lambda target and per deployed HTTP target.
  const targetGroupArns = Object.fromEntries(
    Object.entries(config.targets).filter(([, target]) => target.type === "lambda" || target.deployed !== undefined).map(([target]) => [target, ""]),
  );
  const listener = { sslPolicy: config.alb.sslPolicy, mutualAuthentication: config.alb.mutualAuthentication, headerNames: config.alb.headerNames, defaultAction: config.alb.defaultAction };
  problems.push(...validateListenerArgs({ ...listener, loadBalancerArn: "", certificateArn: "", trustStoreArn: "", targetGroupArns }).map((problem) => `alb: ${problem}`));
  problems.push(...validateListenerRulesArgs({ listenerArn: "", rules: config.alb.rules, targetGroupArns }).map((problem) => `alb: ${problem}`));
  return problems;
}

export class EdgelockStack extends pulumi.ComponentResource {
  readonly appUrl: pulumi.Output<string>;
  readonly albDnsName: pulumi.Output<string>;
  readonly trustStoreArn: pulumi.Output<string>;
  readonly accessAuds: Record<string, pulumi.Output<string>>;
  readonly serviceTokenClientIds: Record<string, pulumi.Output<string>>;
  readonly serviceTokenClientSecrets: Record<string, pulumi.Output<string>>;
  readonly logsBucketName: pulumi.Output<string>;

  constructor(name: string, args: EdgelockStackArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateStack(args));
    super(TYPE, name, {}, opts);

    const { config, environment, pki } = args;
    const parent = { parent: this };

    // Edge: who may reach the app, and the certificate Cloudflare presents to the origin.
    const access = new Access(`${name}-access`, {
      accountId: environment.cloudflareAccountId,
      access: config.access,
      defaultDomain: config.hosts.app,
      namePrefix: config.name,
    }, parent);
    new ProxiedHostname(`${name}-app`, { zoneId: environment.cloudflareZoneId, hostname: config.hosts.app, target: config.hosts.origin }, parent);
    new OriginPull(`${name}-origin-pull`, {
      zoneId: environment.cloudflareZoneId,
      hostname: config.hosts.origin,
      certificatePem: pki.originPullCertificatePem,
      privateKeyPem: pki.originPullKeyPem,
    }, parent);

    // Origin: security group, load balancer, trust store and server certificate.
    const ranges = cloudflare.getIpRangesOutput({}, parent);
    const backendEgress: BackendEgress[] = Object.entries(config.targets).flatMap(([target, value]) =>
      value.type === "http" && value.deployed?.securityGroupId !== undefined
        ? [{ target, port: value.deployed.port, securityGroupId: value.deployed.securityGroupId }]
        : [],
    );
    const loadBalancer = new LoadBalancer(`${name}-alb`, {
      vpcId: environment.vpcId,
      subnetIds: environment.subnetIds,
      ingressIpv4Cidrs: ranges.ipv4Cidrs,
      ingressIpv6Cidrs: ranges.ipv6Cidrs,
      backendEgress,
      attributes: config.alb.attributes,
      ipAddressType: environment.ipAddressType,
      originHost: config.hosts.origin,
      zoneId: environment.route53ZoneId,
    }, parent);
    const trustStore = new TrustStore(`${name}-mtls`, { bundlePem: pki.bundlePem, crlPem: pki.crlPem }, parent);
    const certificate = new Certificate(`${name}-origin`, { domainName: config.hosts.origin, zoneId: environment.route53ZoneId }, parent);

    // Targets: a function and a target group per Lambda target, a target group per HTTP target.
    const accessAud = pulumi.all(Object.values(access.auds)).apply((auds) => auds.join(","));
    const targetGroupArns: TargetGroupArns = {};
    for (const [target, value] of Object.entries(config.targets)) {
      if (value.type === "lambda") {
        const lambda = new EdgelockFunction(`${name}-fn-${target}`, {
          code: args.functionCode[target] as pulumi.Input<pulumi.asset.Archive>,
          teamDomain: `${config.access.teamName}.cloudflareaccess.com`,
          accessAud,
          requireAccessToken: value.requireAccessToken,
          timeoutSeconds: value.timeoutSeconds,
          memoryMb: value.memoryMb,
        }, parent);
        targetGroupArns[target] = new LambdaTarget(`${name}-tg-${target}`, { functionArn: lambda.functionArn, multiValueHeaders: value.multiValueHeaders }, parent).targetGroupArn;
      } else if (value.deployed !== undefined) {
        targetGroupArns[target] = new HttpTarget(`${name}-tg-${target}`, {
          deployed: value.deployed,
          healthCheck: value.healthCheck,
          albSecurityGroupId: loadBalancer.securityGroupId,
        }, parent).targetGroupArn;
      }
    }

    // Listener and rules, which need every target group.
    const listener = new Listener(`${name}-https`, {
      loadBalancerArn: loadBalancer.loadBalancerArn,
      certificateArn: certificate.certificateArn,
      trustStoreArn: trustStore.trustStoreArn,
      sslPolicy: config.alb.sslPolicy,
      mutualAuthentication: config.alb.mutualAuthentication,
      headerNames: config.alb.headerNames,
      defaultAction: config.alb.defaultAction,
      targetGroupArns,
    }, parent);
    new ListenerRules(`${name}-rules`, { listenerArn: listener.listenerArn, rules: config.alb.rules, targetGroupArns }, parent);

    this.appUrl = pulumi.output(`https://${config.hosts.app}/`);
    this.albDnsName = loadBalancer.dnsName;
    this.trustStoreArn = trustStore.trustStoreArn;
    this.accessAuds = access.auds;
    this.serviceTokenClientIds = Object.fromEntries(Object.entries(access.serviceTokens).map(([token, value]) => [token, value.clientId]));
    this.serviceTokenClientSecrets = Object.fromEntries(Object.entries(access.serviceTokens).map(([token, value]) => [token, value.clientSecret]));
    this.logsBucketName = loadBalancer.logsBucketName;
    this.registerOutputs({
      appUrl: this.appUrl,
      albDnsName: this.albDnsName,
      trustStoreArn: this.trustStoreArn,
      accessAuds: this.accessAuds,
      serviceTokenClientIds: this.serviceTokenClientIds,
      logsBucketName: this.logsBucketName,
    });
  }
}
