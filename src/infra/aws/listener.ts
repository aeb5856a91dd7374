/**
 * The HTTPS listener on port 443 with the ACM certificate, mutual TLS written out in full for its mode, the mTLS
 * header names and the default action for requests no rule matches. The TLS policy is always explicit, because
 * the API's own default is the TLS 1.0 policy ELBSecurityPolicy-2016-08.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { sslPolicies, type HeaderNames, type MutualAuthentication, type RuleAction } from "../../config/index.ts";
import { rejectInvalidArgs } from "../errors.ts";
import { actionInput, actionProblems, mutualAuthenticationInput, type TargetGroupArns } from "./actions.ts";

const TYPE = "edgelock:aws:Listener";

export interface ListenerArgs {
  loadBalancerArn: pulumi.Input<string>;
  /** ACM certificate ARN, validated. */
  certificateArn: pulumi.Input<string>;
  /** Trust store ARN; required in verify mode. */
  trustStoreArn?: pulumi.Input<string>;
  /** TLS security policy; one of the TLS 1.3 policies in `sslPolicies`. */
  sslPolicy: string;
  mutualAuthentication: MutualAuthentication;
  /** Names of the headers the listener adds; the AWS names unless renamed in the config. */
  headerNames: HeaderNames;
  /** Action when no rule matches. */
  defaultAction: RuleAction;
  /** Target groups a forward action may name. */
  targetGroupArns: TargetGroupArns;
}

export function validateListenerArgs(args: ListenerArgs): string[] {
  const problems: string[] = [];
  if (!(sslPolicies as readonly string[]).includes(args.sslPolicy)) problems.push(`"sslPolicy" must be one of ${sslPolicies.join(", ")} (got "${args.sslPolicy}")`);

  const mtls = args.mutualAuthentication;
  if (!["off", "passthrough", "verify"].includes(mtls.mode)) problems.push(`"mutualAuthentication.mode" must be "off", "passthrough" or "verify" (got "${String(mtls.mode)}")`);
  if (mtls.mode === "verify" && args.trustStoreArn === undefined) problems.push('"trustStoreArn" is required in mode "verify"');
  if (mtls.mode !== "verify" && mtls.ignoreClientCertificateExpiry !== undefined) {
    problems.push(`"mutualAuthentication.ignoreClientCertificateExpiry" applies only to mode "verify" (got mode "${mtls.mode}"); remove it`);
  }
  if (mtls.mode !== "verify" && mtls.advertiseTrustStoreCaNames !== undefined) {
    problems.push(`"mutualAuthentication.advertiseTrustStoreCaNames" applies only to mode "verify" (got mode "${mtls.mode}"); remove it`);
  }
  problems.push(...actionProblems(args.defaultAction, "defaultAction", args.targetGroupArns));
  return problems;
}

export class Listener extends pulumi.ComponentResource {
  readonly listenerArn: pulumi.Output<string>;

  constructor(name: string, args: ListenerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateListenerArgs(args));
    super(TYPE, name, {}, opts);

    const names = args.headerNames;
    const listener = new aws.lb.Listener(name, {
      loadBalancerArn: args.loadBalancerArn,
      port: 443,
      protocol: "HTTPS",
      certificateArn: args.certificateArn,
      sslPolicy: args.sslPolicy,
      mutualAuthentication: mutualAuthenticationInput(args.mutualAuthentication, args.trustStoreArn ?? ""),
      routingHttpRequestXAmznMtlsClientcertHeaderName: names.clientCert,
      routingHttpRequestXAmznMtlsClientcertSerialNumberHeaderName: names.serialNumber,
      routingHttpRequestXAmznMtlsClientcertIssuerHeaderName: names.issuer,
      routingHttpRequestXAmznMtlsClientcertSubjectHeaderName: names.subject,
      routingHttpRequestXAmznMtlsClientcertValidityHeaderName: names.validity,
      routingHttpRequestXAmznMtlsClientcertLeafHeaderName: names.leaf,
      routingHttpRequestXAmznTlsVersionHeaderName: names.tlsVersion,
      routingHttpRequestXAmznTlsCipherSuiteHeaderName: names.tlsCipherSuite,
      defaultActions: [actionInput(args.defaultAction, args.targetGroupArns)],
    }, { parent: this });

    this.listenerArn = listener.arn;
    this.registerOutputs({ listenerArn: this.listenerArn });
  }
}
