/**
 * The ALB trust store: the CA bundle and the CRL as objects in a private, versioned bucket, a trust store that
 * reads the bundle's exact object version, and a revocation entry for the CRL's exact version. The ALB reads the
 * bundle only on CreateTrustStore or ModifyTrustStore, so passing the version is what makes a new bundle reach
 * the listener; a new CRL version replaces the revocation entry.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
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
 * Checks the bundle and CRL against the ALB's upload rules that can be seen without parsing: PEM only, LF line
 * endings, no blank lines, no more than 25 certificates.
 * NOTE: src/pki/bundle.ts validates bundles in full (key and signature algorithms, sizes); `edgelock pki bundle`
 * runs it when writing the file.
 */
export function validateTrustStoreArgs(args: TrustStoreArgs): string[] {
  const problems: string[] = [];
  const certificates = args.bundlePem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (certificates === 0) problems.push('"bundlePem" holds no "BEGIN CERTIFICATE" block; run "edgelock pki bundle"');
  if (certificates > 25) problems.push(`"bundlePem" holds ${certificates} certificates; a trust store takes at most 25`);
  if (args.bundlePem.includes("\r")) problems.push('"bundlePem" has CR characters; the ALB takes LF line endings only');
  if (/\n[ \t]*\n/.test(args.bundlePem.trimEnd())) problems.push('"bundlePem" has blank lines, which the ALB rejects (InvalidCaCertificatesBundle)');
  if (/-----BEGIN PRIVATE KEY|-----BEGIN (EC|RSA) PRIVATE KEY/.test(args.bundlePem)) problems.push('"bundlePem" holds a private key; a bundle holds CA certificates only');
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
