/**
 * An HTTP target running in a VPC (containers or instances): an `ip` or `instance` target group with the
 * configured health check and one attachment per listed target. An ingress rule on the backend's own security
 * group admits the service port from the ALB's security group and nothing else.
 */
import { isIP } from "node:net";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { HttpTargetConfig } from "../../config/index.ts";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:aws:HttpTarget";

export interface HttpTargetArgs {
  /** `targets.<name>.deployed` from the config. */
  deployed: NonNullable<HttpTargetConfig["deployed"]>;
  /** `targets.<name>.healthCheck` from the config. */
  healthCheck: HttpTargetConfig["healthCheck"];
  /** The ALB's security group, the only source the backend admits. */
  albSecurityGroupId: pulumi.Input<string>;
}

export function validateHttpTarget(deployed: HttpTargetArgs["deployed"] | undefined, path: string): string[] {
  if (deployed === undefined) return [`"${path}" is required to deploy an HTTP target: give targetType, vpcId, port and securityGroupId`];
  const problems: string[] = [];
  if (deployed.securityGroupId === undefined || !/^sg-[0-9a-f]{8,17}$/.test(deployed.securityGroupId)) {
    problems.push(`"${path}.securityGroupId" must be the backend's security group id, such as "sg-0123456789abcdef0", so it can be opened to the ALB only (got ${JSON.stringify(deployed.securityGroupId)})`);
  }
  if (!/^vpc-[0-9a-f]{8,17}$/.test(deployed.vpcId)) problems.push(`"${path}.vpcId" must be a VPC id such as "vpc-0123456789abcdef0" (got "${deployed.vpcId}")`);
  deployed.targets.forEach((target, index) => {
    const valid = deployed.targetType === "ip" ? isIP(target) !== 0 : /^i-[0-9a-f]{8,17}$/.test(target);
    if (!valid) problems.push(`"${path}.targets[${index}]" must be ${deployed.targetType === "ip" ? "an IP address" : "an instance id such as \"i-0123456789abcdef0\""} for targetType "${deployed.targetType}" (got "${target}")`);
  });
  return problems;
}

export class HttpTarget extends pulumi.ComponentResource {
  readonly targetGroupArn: pulumi.Output<string>;

  constructor(name: string, args: HttpTargetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateHttpTarget(args.deployed, "deployed"));
    super(TYPE, name, {}, opts);

    const { deployed, healthCheck } = args;
    const targetGroup = new aws.lb.TargetGroup(name, {
      targetType: deployed.targetType,
      vpcId: deployed.vpcId,
      port: deployed.port,
      protocol: deployed.protocol,
      healthCheck: {
        enabled: healthCheck.enabled,
        path: healthCheck.path,
        protocol: deployed.protocol,
        interval: healthCheck.intervalSeconds,
        timeout: healthCheck.timeoutSeconds,
        healthyThreshold: healthCheck.healthyThreshold,
        unhealthyThreshold: healthCheck.unhealthyThreshold,
        matcher: healthCheck.matcher,
      },
    }, { parent: this });

    deployed.targets.forEach((target, index) => {
      new aws.lb.TargetGroupAttachment(`${name}-target-${index}`, {
        targetGroupArn: targetGroup.arn,
        targetId: target,
        port: deployed.port,
      }, { parent: this });
    });

    new aws.vpc.SecurityGroupIngressRule(`${name}-from-alb`, {
      securityGroupId: deployed.securityGroupId as string,
      referencedSecurityGroupId: args.albSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: deployed.port,
      toPort: deployed.port,
      description: "from the edgelock ALB only",
    }, { parent: this });

    this.targetGroupArn = targetGroup.arn;
    this.registerOutputs({ targetGroupArn: this.targetGroupArn });
  }
}
