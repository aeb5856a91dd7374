/**
 * A private S3 bucket: every public access block switch on, SSE-S3 encryption by default (the only kind ELB log
 * delivery accepts), versioning, bucket-owner-enforced ownership (ACLs disabled) and a policy that denies
 * requests without TLS.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { rejectInvalidArgs } from "../errors.ts";

const TYPE = "edgelock:aws:PrivateBucket";

/** One IAM policy statement, as JSON. */
export type PolicyStatement = Record<string, unknown>;

export interface PrivateBucketArgs {
  /** Keeps every version of every object. Default true; the trust store needs it to pin a bundle version. */
  versioning?: boolean;
  /** Lets `pulumi destroy` delete a bucket that still contains objects. Default false. */
  forceDestroy?: boolean;
  /** Builds extra policy statements from the bucket ARN, such as the ELB log-delivery grant. Default none. */
  statements?: (bucketArn: pulumi.Output<string>) => pulumi.Input<PolicyStatement[]>;
}

export class PrivateBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** Resolves once the bucket policy is in place; objects and log delivery should wait for it. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: PrivateBucketArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    const problems: string[] = [];
    if (args.statements !== undefined && typeof args.statements !== "function") problems.push('"statements" must be a function of the bucket ARN');
    rejectInvalidArgs(TYPE, name, problems);
    super(TYPE, name, {}, opts);

    const bucket = new aws.s3.Bucket(name, { forceDestroy: args.forceDestroy ?? false }, { parent: this });

    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }, { parent: this });

    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }, { parent: this });

    const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    }, { parent: this });

    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
      bucket: bucket.id,
      versioningConfiguration: { status: args.versioning === false ? "Suspended" : "Enabled" },
    }, { parent: this });

    const denyInsecureTransport = bucket.arn.apply((arn) => ({
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [arn, `${arn}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    }));
    const extra = args.statements === undefined ? [] : args.statements(bucket.arn);
    const policy = new aws.s3.BucketPolicy(`${name}-policy`, {
      bucket: bucket.id,
      policy: pulumi.all([denyInsecureTransport, extra]).apply(([deny, statements]) =>
        JSON.stringify({ Version: "2012-10-17", Statement: [deny, ...statements] }),
      ),
    }, { parent: this, dependsOn: [publicAccessBlock] });

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.ready = [publicAccessBlock, encryption, ownership, versioning, policy];
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
