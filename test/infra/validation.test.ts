import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig, type MutualAuthentication } from "../../src/config/index.ts";
import type { InfraError } from "../../src/infra/errors.ts";
import { createTestPki, fullConfigInput, startMocks, type Recorder, type TestPki } from "./harness.ts";

let recorder: Recorder;
let pki: TestPki;
let infra: typeof import("../../src/infra/index.ts");

before(async () => {
  recorder = await startMocks();
  pki = await createTestPki();
  infra = await import("../../src/infra/index.ts");
});

beforeEach(() => {
  recorder.resources.length = 0;
});

after(() => pki.cleanup());

const environment = {
  route53ZoneId: "ZROUTE53",
  cloudflareZoneId: "cf-zone",
  cloudflareAccountId: "cf-account",
  vpcId: "vpc-0123456789abcdef0",
  subnetIds: ["subnet-0aaaaaaaaaaaaaaa"],
  ipAddressType: "ipv4" as const,
};
const code = { echo: new pulumi.asset.AssetArchive({}) };

/** Asserts that `create` throws ERR_INFRA_INVALID_ARGS with every expected line, and that nothing was registered. */
async function assertRejected(create: () => unknown, expected: RegExp[]): Promise<void> {
  assert.throws(create, (error: InfraError) => {
    assert.equal(error.code, "ERR_INFRA_INVALID_ARGS");
    for (const pattern of expected) assert.match(error.message, pattern);
    assert.equal(error.problems.length, expected.length, error.message);
    return true;
  });
  await recorder.settle();
  assert.deepEqual(recorder.resources.map((resource) => resource.name), []);
}

test("stack rejects an unprotected app host", async () => {
  const input = fullConfigInput();
  input.access.applications[0].domain = "app.example.com/admin/*";
  await assertRejected(
    () => new infra.EdgelockStack("edgelock", { config: parseConfig(input), environment, pki: pki.files, functionCode: code }),
    [/hosts\.app "app\.example\.com" has no Access application covering every path; add an application without "domain"/],
  );
});

test("stack lists every problem at once", async () => {
  const input = fullConfigInput();
  delete input.targets.web.deployed.securityGroupId;
  input.targets.web.deployed.targets = ["i-0123456789abcdef0"];
  await assertRejected(
    () => new infra.EdgelockStack("edgelock", { config: parseConfig(input), environment, pki: { ...pki.files, crlPem: "not a CRL" }, functionCode: {} }),
    [
      /"targets\.web\.deployed\.securityGroupId" must be the backend's security group id/,
      /"targets\.web\.deployed\.targets\[0\]" must be an IP address for targetType "ip" \(got "i-0123456789abcdef0"\)/,
      /targets\.echo has no bundled code/,
      /PKI: "crlPem" must be a PEM CRL with the "X509 CRL" label/,
    ],
  );
});

test("stack rejects a CA as origin-pull certificate", async () => {
  const caPem = pki.files.bundlePem;
  await assertRejected(
    () => new infra.EdgelockStack("edgelock", { config: parseConfig(fullConfigInput()), environment, pki: { ...pki.files, originPullCertificatePem: caPem }, functionCode: code }),
    [/origin pull: "certificatePem" is a CA certificate \(CN=edgelock infra test CA\); upload the origin-pull leaf/],
  );
});

test("stack rejects an HTTP target without deployment", async () => {
  const input = fullConfigInput();
  delete input.targets.web.deployed;
  await assertRejected(
    () => new infra.EdgelockStack("edgelock", { config: parseConfig(input), environment, pki: pki.files, functionCode: code }),
    [
      /"targets\.web\.deployed" is required to deploy an HTTP target/,
      /alb: "rules\[1\]\.action\.forward" names target "web", which has no target group \(known: echo\)/,
    ],
  );
});

test("trust store rejects a bundle with blank lines", async () => {
  const [first, ...rest] = pki.files.bundlePem.split("\n");
  const broken = [first, "", ...rest].join("\n");
  await assertRejected(() => new infra.TrustStore("ts", { bundlePem: broken, crlPem: pki.files.crlPem }), [/"bundlePem".*blank line/i]);
});

test("trust store rejects a private key in the bundle", async () => {
  await assertRejected(() => new infra.TrustStore("ts", { bundlePem: `${pki.files.bundlePem}${pki.files.originPullKeyPem}`, crlPem: pki.files.crlPem }), [/"bundlePem"/]);
});

test("listener rejects mode attributes the API refuses", async () => {
  const base = {
    loadBalancerArn: "arn:lb",
    certificateArn: "arn:cert",
    headerNames: parseConfig(fullConfigInput()).alb.headerNames,
    defaultAction: { fixedResponse: { statusCode: 404, contentType: "text/plain" as const, messageBody: "Not Found" } },
    targetGroupArns: {},
  };
  await assertRejected(
    () => new infra.Listener("https", { ...base, sslPolicy: "ELBSecurityPolicy-2016-08", mutualAuthentication: { mode: "passthrough", ignoreClientCertificateExpiry: false } }),
    [
      /"sslPolicy" must be one of ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-TLS13-1-2-Res-2021-06 \(got "ELBSecurityPolicy-2016-08"\)/,
      /"mutualAuthentication\.ignoreClientCertificateExpiry" applies only to mode "verify" \(got mode "passthrough"\); remove it/,
    ],
  );
  await assertRejected(
    () => new infra.Listener("https", { ...base, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", mutualAuthentication: { mode: "verify" } }),
    [/"trustStoreArn" is required in mode "verify"/],
  );
  await assertRejected(
    () => new infra.Listener("https", { ...base, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", mutualAuthentication: { mode: "off", advertiseTrustStoreCaNames: "on" } }),
    [/"mutualAuthentication\.advertiseTrustStoreCaNames" applies only to mode "verify" \(got mode "off"\)/],
  );
});

test("mutual authentication is written out per mode", () => {
  const cases: [MutualAuthentication, object][] = [
    [{ mode: "verify" }, { mode: "verify", trustStoreArn: "arn:ts", ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: "off" }],
    [{ mode: "verify", ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: "on" }, { mode: "verify", trustStoreArn: "arn:ts", ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: "on" }],
    [{ mode: "passthrough" }, { mode: "passthrough" }],
    [{ mode: "off" }, { mode: "off" }],
  ];
  for (const [config, expected] of cases) assert.deepEqual(infra.mutualAuthenticationInput(config, "arn:ts"), expected, config.mode);
});

test("listener rules reject duplicate priorities and unknown targets", async () => {
  await assertRejected(
    () =>
      new infra.ListenerRules("rules", {
        listenerArn: "arn:listener",
        rules: [
          { priority: 5, conditions: { pathPattern: ["/a"] }, action: { forward: "echo" } },
          { priority: 5, conditions: { pathPattern: ["/b"] }, action: { forward: "nope" } },
        ],
        targetGroupArns: { echo: "arn:tg" },
      }),
    [/"rules\[1\]\.priority" 5 is already used by rules\[0\]/, /"rules\[1\]\.action\.forward" names target "nope", which has no target group \(known: echo\)/],
  );
});

test("load balancer rejects bad egress and address type", async () => {
  await assertRejected(
    () =>
      new infra.LoadBalancer("alb", {
        vpcId: "vpc-1",
        subnetIds: [],
        ingressIpv4Cidrs: ["173.245.48.0/20"],
        ingressIpv6Cidrs: ["2400:cb00::/32"],
        backendEgress: [{ target: "web", port: 70000, securityGroupId: "0.0.0.0/0" }],
        attributes: parseConfig(fullConfigInput()).alb.attributes,
        ipAddressType: "ipv6" as "ipv4",
        originHost: "origin.example.com",
        zoneId: "Z",
      }),
    [
      /"ipAddressType" must be "ipv4" or "dualstack" \(got "ipv6"\)/,
      /"backendEgress\[0\]\.port" must be a TCP port \(got 70000\)/,
      /"backendEgress\[0\]\.securityGroupId" must be a security group id such as "sg-0123456789abcdef0" \(got "0\.0\.0\.0\/0"\)/,
    ],
  );
});

test("function rejects out-of-range settings", async () => {
  await assertRejected(
    () => new infra.EdgelockFunction("fn", { code: new pulumi.asset.AssetArchive({}), teamDomain: "https://acme.cloudflareaccess.com", accessAud: "aud", requireAccessToken: true, timeoutSeconds: 901, memoryMb: 64, logRetentionDays: 10 }),
    [
      /"teamDomain" must be a team domain such as "acme\.cloudflareaccess\.com" \(got "https:\/\/acme\.cloudflareaccess\.com"\)/,
      /"timeoutSeconds" must be an integer from 1 to 900 \(got 901\)/,
      /"memoryMb" must be an integer from 128 to 10240 \(got 64\)/,
      /"logRetentionDays" must be one of 1, 3, 5, .* \(got 10\)/,
    ],
  );
});

test("Access rejects undeclared tokens and schemes", async () => {
  const access = parseConfig(fullConfigInput()).access;
  const broken = { ...access, serviceTokens: [], applications: access.applications.map((application) => ({ ...application, domain: "https://app.example.com" })) };
  await assertRejected(
    () => new infra.Access("access", { accountId: "cf-account", access: broken, defaultDomain: "app.example.com", namePrefix: "edgelock" }),
    [
      /"access\.applications\[0\]\.domain" must not include a scheme \(got "https:\/\/app\.example\.com"\); write "app\.example\.com"/,
      /"access\.applications\[0\]\.policies\[0\]\.include\[0\]\.serviceToken" names "ci", which is not in access\.serviceTokens/,
    ],
  );
});

test("DNS record rejects an app host equal to the origin", async () => {
  await assertRejected(
    () => new infra.ProxiedHostname("app", { zoneId: "z", hostname: "origin.example.com", target: "origin.example.com" }),
    [/"hostname" and "target" are both "origin\.example\.com"; the app host must point at a separate origin host/],
  );
});

test("certificate rejects a host name with a scheme", async () => {
  await assertRejected(() => new infra.Certificate("cert", { domainName: "https://origin.example.com", zoneId: "Z" }), [/"domainName" must be a lowercase host name with a dot/]);
});
