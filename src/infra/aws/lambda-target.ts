/**
 * A Lambda target: a `lambda` target group, the permission that lets Elastic Load Balancing invoke the function
 * for this target group only, and the attachment, which AWS rejects until that permission exists.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:aws:LambdaTarget";

export interface LambdaTargetArgs {
  /** ARN of the function to invoke. */
  functionArn: pulumi.Input<string>;
  /** Target group attribute lambda.multi_value_headers.enabled; it decides the event shape, so fix it up front. */
  multiValueHeaders: boolean;
}

export class LambdaTarget extends pulumi.ComponentResource {
  readonly targetGroupArn: pulumi.Output<string>;

  constructor(name: string, args: LambdaTargetArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const problems: string[] = [];
    if (typeof args.multiValueHeaders !== "boolean") problems.push(`"multiValueHeaders" must be true or false (got ${String(args.multiValueHeaders)})`);
    if (args.functionArn === undefined) problems.push('"functionArn" is required');
    rejectInvalidArgs(TYPE, name, problems);
    super(TYPE, name, {}, opts);

    const targetGroup = new aws.lb.TargetGroup(name, {
      targetType: "lambda",
      lambdaMultiValueHeadersEnabled: args.multiValueHeaders,
    }, { parent: this });

    const permission = new aws.lambda.Permission(`${name}-invoke`, {
      action: "lambda:InvokeFunction",
      function: args.functionArn,
      principal: "elasticloadbalancing.amazonaws.com",
      sourceArn: targetGroup.arn,
    }, { parent: this });

    new aws.lb.TargetGroupAttachment(`${name}-attachment`, {
      targetGroupArn: targetGroup.arn,
      targetId: args.functionArn,
    }, { parent: this, dependsOn: [permission] });

    this.targetGroupArn = targetGroup.arn;
    this.registerOutputs({ targetGroupArn: this.targetGroupArn });
  }
}
