/**
 * The Lambda function behind a `lambda` target: arm64, Node.js 22, JSON logs in its own log group with a
 * retention, and a role that may only write to that log group.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";
import { BUNDLE_HANDLER } from "./bundle.ts";

const TYPE = "edgelock:aws:Function";

/** Retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export interface FunctionArgs {
  /** Code archive with `index.mjs` exporting `handler`, as `bundleHandler` builds it. */
  code: pulumi.Input<pulumi.asset.Archive>;
  /** Team domain such as "acme.cloudflareaccess.com", passed as TEAM_DOMAIN. */
  teamDomain: string;
  /** Audience tags of the Access applications the function accepts, comma-separated, passed as ACCESS_AUD. */
  accessAud: pulumi.Input<string>;
  /** Whether the function rejects requests without a valid Access token, passed as REQUIRE_ACCESS_TOKEN. */
  requireAccessToken: boolean;
  /** Timeout in seconds, 1 to 900. */
  timeoutSeconds: number;
  /** Memory in MB, 128 to 10240. */
  memoryMb: number;
  /** Log retention in days; one of LOG_RETENTION_DAYS. Default 30. */
  logRetentionDays?: number;
}

function validate(args: FunctionArgs): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9][a-z0-9-]*\.cloudflareaccess\.com$/.test(args.teamDomain)) {
    problems.push(`"teamDomain" must be a team domain such as "acme.cloudflareaccess.com" (got "${args.teamDomain}")`);
  }
  if (!Number.isInteger(args.timeoutSeconds) || args.timeoutSeconds < 1 || args.timeoutSeconds > 900) {
    problems.push(`"timeoutSeconds" must be an integer from 1 to 900 (got ${args.timeoutSeconds})`);
  }
  if (!Number.isInteger(args.memoryMb) || args.memoryMb < 128 || args.memoryMb > 10240) {
    problems.push(`"memoryMb" must be an integer from 128 to 10240 (got ${args.memoryMb})`);
  }
  const retention = args.logRetentionDays ?? 30;
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(retention)) {
    problems.push(`"logRetentionDays" must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${retention})`);
  }
  return problems;
}

export class EdgelockFunction extends pulumi.ComponentResource {
  readonly functionArn: pulumi.Output<string>;
  readonly functionName: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;

  constructor(name: string, args: FunctionArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validate(args));
    super(TYPE, name, {}, opts);

    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
      name: `/edgelock/lambda/${name}`,
      retentionInDays: args.logRetentionDays ?? 30,
    }, { parent: this });

    const role = new aws.iam.Role(`${name}-role`, {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }, { parent: this });

    // Basic execution narrowed to this log group: the group exists already, so CreateLogGroup is not granted.
    const logPolicy = new aws.iam.RolePolicy(`${name}-logs`, {
      role: role.id,
      policy: logGroup.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${arn}:*` }],
        }),
      ),
    }, { parent: this });

    const lambda = new aws.lambda.Function(name, {
      role: role.arn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: BUNDLE_HANDLER,
      code: args.code,
      timeout: args.timeoutSeconds,
      memorySize: args.memoryMb,
      loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
      environment: {
        variables: {
          TEAM_DOMAIN: args.teamDomain,
          ACCESS_AUD: args.accessAud,
          REQUIRE_ACCESS_TOKEN: String(args.requireAccessToken),
        },
      },
    }, { parent: this, dependsOn: [logPolicy, logGroup] });

    this.functionArn = lambda.arn;
    this.functionName = lambda.name;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.registerOutputs({ functionArn: this.functionArn, functionName: this.functionName, roleArn: this.roleArn, logGroupName: this.logGroupName });
  }
}
