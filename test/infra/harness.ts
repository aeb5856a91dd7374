/**
 * Pulumi mocks that record every resource (type, name, inputs, dependencies) and return fixture results for
 * the invokes the program makes, plus a PKI made by src/pki in a temporary folder. Nothing here calls a cloud API.
 */
import "reflect-metadata";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks.js";
import { openPkiStore } from "../../src/pki/store.ts";
import type { PkiFiles } from "../../src/infra/pki-files.ts";

/** Cloudflare ranges the getIpRanges mock returns. */
export const FIXTURE_RANGES = {
  ipv4Cidrs: ["173.245.48.0/20", "103.21.244.0/22", "104.16.0.0/13"],
  ipv6Cidrs: ["2400:cb00::/32", "2606:4700::/32"],
  etag: "fixture",
};

/** Key Pulumi puts on a serialized secret value. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** Inputs as the engine would see them; secrets stay wrapped (see isSecret). */
  inputs: Record<string, any>;
  /** URNs of the resources listed in dependsOn. */
  dependsOn: string[];
  /** Outputs the mock returned. */
  state: Record<string, any>;
}

export interface Recorder {
  resources: RecordedResource[];
  invokes: { token: string; inputs: any }[];
  /** Waits until every pending registration has finished. */
  settle(): Promise<void>;
  byType(type: string): RecordedResource[];
  one(type: string, name?: string): RecordedResource;
}

/** Returns true when a recorded input value is a Pulumi secret. */
export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Unwraps recorded secrets, recursively, for comparisons. */
export function plain(value: any): any {
  if (isSecret(value)) return plain(value.value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, plain(entry)]));
  return value;
}

/** Outputs a real provider computes, keyed by resource type. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const arn = `arn:mock:${type}:${name}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
      return { arn: `arn:aws:s3:::${name}-bucket`, bucket: `${name}-bucket` };
    case "aws:s3/bucketObjectv2:BucketObjectv2":
      return { versionId: `${name}-version-1` };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { arn, dnsName: `${name}.elb.mock`, zoneId: "Z-ELB" };
    case "aws:acm/certificate:Certificate":
      return { arn, domainValidationOptions: [{ domainName: inputs.domainName, resourceRecordName: `_x.${inputs.domainName}.`, resourceRecordType: "CNAME", resourceRecordValue: "_y.acm-validations.aws." }] };
    case "aws:acm/certificateValidation:CertificateValidation":
      return { certificateArn: inputs.certificateArn };
    case "aws:route53/record:Record":
      return { fqdn: inputs.name };
    case "aws:lambda/function:Function":
      return { arn, name: `${name}-function` };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: `arn:aws:logs:mock:123456789012:log-group:${inputs.name}` };
    case "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication":
      return { aud: `aud-${name}` };
    case "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken":
      return { clientId: `${name}.access`, clientSecret: `secret-${name}` };
    default:
      return { arn };
  }
}

function answerCall(token: string): Record<string, any> {
  switch (token) {
    case "cloudflare:index/getIpRanges:getIpRanges":
      return FIXTURE_RANGES;
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/test", userId: "test" };
    case "aws:elb/getServiceAccount:getServiceAccount":
      return { arn: "arn:aws:iam::582318560864:root", id: "582318560864" };
    case "aws:ec2/getVpc:getVpc":
      return { id: "vpc-0default0000000", cidrBlock: "172.31.0.0/16" };
    case "aws:ec2/getSubnets:getSubnets":
      return { ids: ["subnet-0aaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbb"] };
    case "aws:route53/getZone:getZone":
      return { zoneId: "ZLOOKEDUP", id: "ZLOOKEDUP", name: "example.com" };
    default:
      throw new Error(`unexpected invoke ${token}`);
  }
}

let patched = false;
const pendingDependencies = new Map<string, string[]>();
let active: RecordedResource[] = [];

/** Installs the recording mocks; call once per test file, before importing components. */
export async function startMocks(): Promise<Recorder> {
  const resources: RecordedResource[] = [];
  active = resources;
  const invokes: { token: string; inputs: any }[] = [];

  if (!patched) {
    // The public Mocks interface does not see dependsOn, so read it from the registration request.
    const original = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (this: MockMonitor, request: any, callback: any) {
      const key = `${request.getType()}::${request.getName()}`;
      pendingDependencies.set(key, request.getDependenciesList());
      return original.call(this, request, (error: unknown, response: any) => {
        const record = active.find((resource) => `${resource.type}::${resource.name}` === key);
        if (record !== undefined && response) record.urn = response.getUrn();
        callback(error, response);
      });
    };
    patched = true;
  }

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs) };
        resources.push({
          type: args.type,
          name: args.name,
          urn: "",
          inputs: args.inputs,
          dependsOn: pendingDependencies.get(`${args.type}::${args.name}`) ?? [],
          state,
        });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        invokes.push({ token: args.token, inputs: args.inputs });
        return answerCall(args.token);
      },
    },
    "edgelock",
    "test",
    false,
  );

  const recorder: Recorder = {
    resources,
    invokes,
    async settle() {
      let count = -1;
      while (count !== resources.length) {
        count = resources.length;
        for (let round = 0; round < 20; round += 1) await new Promise((resolve) => setImmediate(resolve));
      }
    },
    byType: (type) => resources.filter((resource) => resource.type === type),
    one(type, name) {
      const matches = resources.filter((resource) => resource.type === type && (name === undefined || resource.name === name));
      if (matches.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${matches.map((match) => match.name).join(", ")}`);
      return matches[0] as RecordedResource;
    },
  };
  return recorder;
}

/** Resolves an output's value under mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

export interface TestPki {
  dir: string;
  files: PkiFiles;
  /** The root CA's private key, which must appear in no resource input. */
  caKeyPem: string;
  cleanup(): void;
}

/** Makes a PKI in a temporary folder with `edgelock pki`'s store: CA, bundle, CRL and an origin-pull certificate. */
export async function createTestPki(options: { originPullValidityDays?: number } = {}): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-infra-"));
  const store = openPkiStore(join(dir, "pki"));
  await store.init({ subject: { commonName: "edgelock infra test CA" } });
  await store.issue("client", "origin-pull", options.originPullValidityDays === undefined ? {} : { validityDays: options.originPullValidityDays });
  await store.writeCrl();
  const paths = store.paths;
  return {
    dir: join(dir, "pki"),
    files: {
      bundlePem: readFileSync(paths.bundle, "utf8"),
      crlPem: readFileSync(paths.crl, "utf8"),
      originPullCertificatePem: readFileSync(paths.certificate("origin-pull"), "utf8"),
      originPullKeyPem: readFileSync(paths.key("origin-pull"), "utf8"),
    },
    caKeyPem: readFileSync(paths.caKey, "utf8"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Builds a config input with every selector, a service token, an HTTP target and a fixed-response rule. */
export function fullConfigInput(): Record<string, any> {
  return {
    name: "edgelock",
    hosts: { app: "app.example.com", origin: "origin.example.com" },
    access: {
      teamName: "acme",
      applications: [
        {
          name: "app",
          sessionDuration: "72h",
          sameSiteCookie: "lax",
          policies: [
            { name: "ci", decision: "non_identity", include: [{ serviceToken: "ci" }, { anyValidServiceToken: true }] },
            { name: "office", decision: "bypass", include: [{ ip: "203.0.113.7" }, { ip: "2001:db8::/32" }] },
            {
              name: "members",
              decision: "allow",
              include: [{ email: "alice@example.com" }, { emailDomain: "example.com" }],
              require: [{ geo: "JP" }],
              exclude: [{ email: "mallory@example.com" }],
              sessionDuration: "8h",
            },
            { name: "deny-rest", decision: "deny", include: [{ everyone: true }] },
          ],
        },
      ],
      serviceTokens: [{ name: "ci", duration: "720h" }],
    },
    alb: {
      rules: [
        { priority: 10, conditions: { pathPattern: ["/health"], httpRequestMethod: ["GET"] }, action: { fixedResponse: { statusCode: 200, messageBody: "ok" } } },
        { priority: 20, conditions: { pathPattern: ["/api/*"], sourceIp: ["198.51.100.1"] }, action: { forward: "web" } },
        { priority: 100, conditions: { pathPattern: ["/*"] }, action: { forward: "echo" } },
      ],
    },
    targets: {
      echo: { type: "lambda", handler: "echo", requireAccessToken: true },
      web: {
        type: "http",
        url: "http://127.0.0.1:3000",
        healthCheck: { path: "/healthz" },
        deployed: { targetType: "ip", vpcId: "vpc-0123456789abcdef0", port: 8080, targets: ["10.0.1.15"], securityGroupId: "sg-0fedcba9876543210" },
      },
    },
  };
}
