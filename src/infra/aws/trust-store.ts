/**
 * The ALB trust store: the CA bundle and the CRL as objects in a private, versioned bucket, a trust store that
 * reads the bundle's exact object version, and a revocation entry for the CRL's exact version. The ALB reads the
 * bundle only on CreateTrustStore or ModifyTrustStore, so passing the version is what makes a new bundle reach
 * the listener. A new CRL version replaces the revocation entry.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PkiError } from "../../pki/errors.ts";
import { validateBundle } from "../../pki/bundle.ts";
import { rejectInvalidArgs } from "../errors.ts";
import { PrivateBucket } from "./private-bucket.ts";

const TYPE = "edgelock:aws:TrustStore";

export const BUNDLE_KEY = "trust-store/bundle.pem";
export const CRL_KEY = "trust-store/crl.pem";

export interface TrustStoreArgs {
  /** CA bundle in PEM, as `edgelock pki bundle` writes it. */
  bundlePem: string;
  /** CRL in PEM with the "X509 CRL" label, as `edgelock pki crl` writes it. */
  crlPem: string;
}

/**
 * Checks the bundle against the ALB's trust store rules (PEM only, LF line endings, no blank lines, at most 25
 * CAs, accepted key and signature algorithms) and the CRL's PEM label.
 */
export function validateTrustStoreArgs(args: TrustStoreArgs): string[] {
  const problems: string[] = [];
  try {
    validateBundle(args.bundlePem, { source: '"bundlePem"' });
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
    problems.push(error.message);
  }
  if (!args.crlPem.includes("-----BEGIN X509 CRL-----")) problems.push('"crlPem" must be a PEM CRL with the "X509 CRL" label; run "edgelock pki crl"');
  return problems;
}

export class TrustStore extends pulumi.ComponentResource {
  readonly trustStoreArn: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  /** S3 version of the uploaded bundle, which the trust store reads. */
  readonly bundleVersion: pulumi.Output<string>;

  constructor(name: string, args: TrustStoreArgs, opts: pulumi.ComponentResourceOptions = {}) {
    rejectInvalidArgs(TYPE, name, validateTrustStoreArgs(args));
    super(TYPE, name, {}, opts);

    const bucket = new PrivateBucket(`${name}-bucket`, { versioning: true }, { parent: this });

    const bundle = new aws.s3.BucketObjectv2(`${name}-bundle`, {
      bucket: bucket.bucketName,
      key: BUNDLE_KEY,
      content: args.bundlePem,
      contentType: "application/x-pem-file",
    }, { parent: this, dependsOn: bucket.ready });

    const trustStore = new aws.lb.TrustStore(name, {
      caCertificatesBundleS3Bucket: bucket.bucketName,
      caCertificatesBundleS3Key: bundle.key,
      caCertificatesBundleS3ObjectVersion: bundle.versionId,
    }, { parent: this });

    const crl = new aws.s3.BucketObjectv2(`${name}-crl`, {
      bucket: bucket.bucketName,
      key: CRL_KEY,
      content: args.crlPem,
      contentType: "application/x-pem-file",
    }, { parent: this, dependsOn: bucket.ready });

    new aws.lb.TrustStoreRevocation(`${name}-revocation`, {
      trustStoreArn: trustStore.arn,
      revocationsS3Bucket: bucket.bucketName,
      revocationsS3Key: crl.key,
      revocationsS3ObjectVersion: crl.versionId,
    }, { parent: this });

    this.trustStoreArn = trustStore.arn;
    this.bucketName = bucket.bucketName;
    this.bundleVersion = bundle.versionId;
    this.registerOutputs({ trustStoreArn: this.trustStoreArn, bucketName: this.bucketName, bundleVersion: this.bundleVersion });
  }
}
