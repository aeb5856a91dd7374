import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { parseConfig } from "../../src/config/index.ts";
import { FIXTURE_RANGES, createTestPki, fullConfigInput, isSecret, plain, startMocks, type Recorder, type TestPki } from "./harness.ts";

let recorder: Recorder;
let pki: TestPki;

before(async () => {
  recorder = await startMocks();
  pki = await createTestPki();
  const { EdgelockStack } = await import("../../src/infra/stack.ts");
  new EdgelockStack("edgelock", {
    config: parseConfig(fullConfigInput()),
    environment: {
      route53ZoneId: "ZROUTE53",
      cloudflareZoneId: "cf-zone",
      cloudflareAccountId: "cf-account",
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0aaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbb"],
      ipAddressType: "dualstack",
    },
    pki: pki.files,
    functionCode: { echo: new pulumi.asset.AssetArchive({ "index.mjs": new pulumi.asset.StringAsset("export const handler = async () => ({ statusCode: 200 });") }) },
  });
  await recorder.settle();
});

after(() => pki.cleanup());

function byUrn(urn: string) {
  const match = recorder.resources.find((resource) => resource.urn === urn);
  assert.ok(match, `no recorded resource with URN ${urn}`);
  return match;
}

test("listener verifies client certificates with every attribute", () => {
  const listener = recorder.one("aws:lb/listener:Listener");
  const trustStore = recorder.one("aws:lb/trustStore:TrustStore");
  const mtls = listener.inputs.mutualAuthentication;
  assert.equal(mtls.mode, "verify");
  assert.equal(mtls.trustStoreArn, trustStore.state.arn);
  assert.ok(Object.hasOwn(mtls, "ignoreClientCertificateExpiry"), "ignoreClientCertificateExpiry must be sent, not omitted");
  assert.equal(mtls.ignoreClientCertificateExpiry, false);
  assert.equal(mtls.advertiseTrustStoreCaNames, "off");
  assert.equal(listener.inputs.sslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06");
  assert.equal(listener.inputs.protocol, "HTTPS");
  assert.equal(listener.inputs.port, 443);
  assert.equal(listener.inputs.certificateArn, recorder.one("aws:acm/certificateValidation:CertificateValidation").state.certificateArn);
});

test("listener default action is a 404 fixed response", () => {
  const listener = recorder.one("aws:lb/listener:Listener");
  assert.deepEqual(listener.inputs.defaultActions, [
    { type: "fixed-response", fixedResponse: { statusCode: "404", contentType: "text/plain", messageBody: "Not Found" } },
  ]);
});

test("security group admits 443 from Cloudflare ranges only", () => {
  const securityGroup = recorder.one("aws:ec2/securityGroup:SecurityGroup");
  const ingress = securityGroup.inputs.ingress as any[];
  assert.equal(ingress.length, 2);
  for (const rule of ingress) {
    assert.equal(rule.protocol, "tcp");
    assert.equal(rule.fromPort, 443);
    assert.equal(rule.toPort, 443);
    assert.equal(rule.securityGroups, undefined);
    assert.equal(rule.self, undefined);
  }
  const ipv4 = ingress.flatMap((rule) => rule.cidrBlocks ?? []);
  const ipv6 = ingress.flatMap((rule) => rule.ipv6CidrBlocks ?? []);
  assert.deepEqual(ipv4, FIXTURE_RANGES.ipv4Cidrs);
  assert.deepEqual(ipv6, FIXTURE_RANGES.ipv6Cidrs);

  const everything = JSON.stringify(recorder.byType("aws:ec2/securityGroup:SecurityGroup").map((group) => group.inputs));
  assert.ok(!everything.includes("0.0.0.0/0"), "no security group may name 0.0.0.0/0");
  assert.ok(!everything.includes('"::/0"'), "no security group may name ::/0");
  assert.equal(recorder.byType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((rule) => rule.inputs.cidrIpv4 || rule.inputs.cidrIpv6).length, 0);
});

test("security group egress reaches the HTTP backend only", () => {
  const securityGroup = recorder.one("aws:ec2/securityGroup:SecurityGroup");
  assert.deepEqual(securityGroup.inputs.egress, [
    { description: "to target web", protocol: "tcp", fromPort: 8080, toPort: 8080, securityGroups: ["sg-0fedcba9876543210"] },
  ]);
});

test("Cloudflare ranges come from getIpRanges", () => {
  assert.ok(recorder.invokes.some((invoke) => invoke.token === "cloudflare:index/getIpRanges:getIpRanges"));
});

test("every bucket is private, encrypted and versioned", () => {
  const buckets = recorder.byType("aws:s3/bucket:Bucket");
  assert.equal(buckets.length, 2, "trust store bucket and log bucket");
  for (const bucket of buckets) {
    const id = `${bucket.name}-id`;
    const block = recorder.byType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").find((resource) => resource.inputs.bucket === id);
    assert.ok(block, `${bucket.name} has a public access block`);
    assert.equal(block.inputs.blockPublicAcls, true);
    assert.equal(block.inputs.blockPublicPolicy, true);
    assert.equal(block.inputs.ignorePublicAcls, true);
    assert.equal(block.inputs.restrictPublicBuckets, true);

    const encryption = recorder.byType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").find((resource) => resource.inputs.bucket === id);
    assert.equal(encryption?.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");

    const versioning = recorder.byType("aws:s3/bucketVersioning:BucketVersioning").find((resource) => resource.inputs.bucket === id);
    assert.equal(versioning?.inputs.versioningConfiguration.status, "Enabled");

    const ownership = recorder.byType("aws:s3/bucketOwnershipControls:BucketOwnershipControls").find((resource) => resource.inputs.bucket === id);
    assert.equal(ownership?.inputs.rule.objectOwnership, "BucketOwnerEnforced");

    const policy = recorder.byType("aws:s3/bucketPolicy:BucketPolicy").find((resource) => resource.inputs.bucket === id);
    const statements = JSON.parse(policy?.inputs.policy).Statement as any[];
    assert.ok(statements.some((statement) => statement.Effect === "Deny" && statement.Condition?.Bool?.["aws:SecureTransport"] === "false"));
  }
});

test("log bucket allows ELB log delivery only under AWSLogs", () => {
  const loadBalancer = recorder.one("aws:lb/loadBalancer:LoadBalancer");
  const logBucket = loadBalancer.inputs.accessLogs.bucket as string;
  assert.deepEqual(loadBalancer.inputs.accessLogs, { bucket: logBucket, prefix: "access", enabled: true });
  assert.deepEqual(loadBalancer.inputs.connectionLogs, { bucket: logBucket, prefix: "connection", enabled: true });

  const bucket = recorder.byType("aws:s3/bucket:Bucket").find((resource) => resource.state.bucket === logBucket);
  assert.ok(bucket);
  const policy = recorder.byType("aws:s3/bucketPolicy:BucketPolicy").find((resource) => resource.inputs.bucket === `${bucket.name}-id`);
  const grant = (JSON.parse(policy?.inputs.policy).Statement as any[]).find((statement) => statement.Effect === "Allow");
  assert.deepEqual(grant.Principal, { Service: "logdelivery.elasticloadbalancing.amazonaws.com", AWS: "arn:aws:iam::582318560864:root" });
  assert.equal(grant.Action, "s3:PutObject");
  assert.equal(grant.Resource, `${bucket.state.arn}/*/AWSLogs/123456789012/*`);
});

test("load balancer carries the hardening attributes", () => {
  const loadBalancer = recorder.one("aws:lb/loadBalancer:LoadBalancer");
  assert.equal(loadBalancer.inputs.loadBalancerType, "application");
  assert.equal(loadBalancer.inputs.internal, false);
  assert.equal(loadBalancer.inputs.dropInvalidHeaderFields, true);
  assert.equal(loadBalancer.inputs.desyncMitigationMode, "defensive");
  assert.equal(loadBalancer.inputs.ipAddressType, "dualstack");
  assert.deepEqual(loadBalancer.inputs.securityGroups, ["edgelock-alb-sg-id"]);

  const aliases = recorder.byType("aws:route53/record:Record").filter((record) => record.inputs.aliases !== undefined);
  assert.deepEqual(aliases.map((record) => record.inputs.type).sort(), ["A", "AAAA"]);
  for (const record of aliases) {
    assert.equal(record.inputs.name, "origin.example.com");
    assert.equal(record.inputs.zoneId, "ZROUTE53");
    assert.deepEqual(record.inputs.aliases, [{ name: loadBalancer.state.dnsName, zoneId: "Z-ELB", evaluateTargetHealth: true }]);
  }
});

test("trust store reads the bundle object's version", () => {
  const trustStore = recorder.one("aws:lb/trustStore:TrustStore");
  const bundle = recorder.byType("aws:s3/bucketObjectv2:BucketObjectv2").find((object) => object.inputs.key === "trust-store/bundle.pem");
  assert.ok(bundle);
  assert.equal(bundle.inputs.content, pki.files.bundlePem);
  assert.equal(trustStore.inputs.caCertificatesBundleS3ObjectVersion, bundle.state.versionId);
  assert.equal(trustStore.inputs.caCertificatesBundleS3Key, "trust-store/bundle.pem");
  assert.equal(trustStore.inputs.caCertificatesBundleS3Bucket, bundle.inputs.bucket);
});

test("revocation reads the CRL object's version", () => {
  const revocation = recorder.one("aws:lb/trustStoreRevocation:TrustStoreRevocation");
  const crl = recorder.byType("aws:s3/bucketObjectv2:BucketObjectv2").find((object) => object.inputs.key === "trust-store/crl.pem");
  assert.ok(crl);
  assert.equal(crl.inputs.content, pki.files.crlPem);
  assert.equal(revocation.inputs.revocationsS3ObjectVersion, crl.state.versionId);
  assert.equal(revocation.inputs.trustStoreArn, recorder.one("aws:lb/trustStore:TrustStore").state.arn);
});

test("root CA key appears in no input", () => {
  const body = pki.caKeyPem.split("\n").filter((line) => line !== "" && !line.startsWith("-----")).join("");
  const everything = JSON.stringify(recorder.resources.map((resource) => resource.inputs)).replace(/\\n/g, "");
  assert.ok(body.length > 40);
  assert.ok(!everything.includes(body), "the root CA private key leaked into a resource input");
  // The first 40 characters are the PKCS#8 header every P-256 key shares; the private scalar follows.
  assert.ok(!everything.includes(body.slice(48, 88)), "the root CA private scalar leaked into a resource input");
});

test("origin-pull certificate and key are secrets", () => {
  const certificate = recorder.one("cloudflare:index/authenticatedOriginPullsHostnameCertificate:AuthenticatedOriginPullsHostnameCertificate");
  assert.ok(isSecret(certificate.inputs.privateKey), "privateKey is a secret");
  assert.ok(isSecret(certificate.inputs.certificate), "certificate is a secret");
  assert.equal(plain(certificate.inputs.privateKey), pki.files.originPullKeyPem);
  assert.equal(plain(certificate.inputs.certificate), pki.files.originPullCertificatePem);
  assert.equal(certificate.inputs.zoneId, "cf-zone");
});

test("origin pull is enabled for the origin host", () => {
  const pulls = recorder.one("cloudflare:index/authenticatedOriginPulls:AuthenticatedOriginPulls");
  assert.deepEqual(pulls.inputs.configs, [{ hostname: "origin.example.com", certId: "edgelock-origin-pull-certificate-id", enabled: true }]);
  const settings = recorder.byType("cloudflare:index/zoneSetting:ZoneSetting").map((setting) => [setting.inputs.settingId, setting.inputs.value]);
  assert.deepEqual(settings.sort(), [["ssl", "strict"], ["tls_client_auth", "on"]]);
});

test("app host is a proxied CNAME to the origin", () => {
  const record = recorder.one("cloudflare:index/dnsRecord:DnsRecord");
  assert.equal(record.inputs.name, "app.example.com");
  assert.equal(record.inputs.type, "CNAME");
  assert.equal(record.inputs.content, "origin.example.com");
  assert.equal(record.inputs.proxied, true);
  assert.equal(record.inputs.ttl, 1);
});

test("every Access-protected host has an application", () => {
  const applications = recorder.byType("cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication");
  const proxied = recorder.byType("cloudflare:index/dnsRecord:DnsRecord").filter((record) => record.inputs.proxied);
  for (const record of proxied) {
    assert.ok(applications.some((application) => application.inputs.domain === record.inputs.name), `${record.inputs.name} has an Access application`);
  }
  const application = applications[0];
  assert.equal(application?.inputs.type, "self_hosted");
  assert.equal(application?.inputs.accountId, "cf-account");
  assert.equal(application?.inputs.sessionDuration, "72h");
  assert.equal(application?.inputs.httpOnlyCookieAttribute, true);
  assert.equal(application?.inputs.sameSiteCookieAttribute, "lax");
  assert.deepEqual(application?.inputs.destinations, [{ type: "public", uri: "app.example.com" }]);
});

test("application lists policies in precedence order", () => {
  const application = recorder.one("cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication");
  assert.deepEqual(application.inputs.policies, [
    { id: "edgelock-access-app-ci-id", precedence: 1 },
    { id: "edgelock-access-app-office-id", precedence: 2 },
    { id: "edgelock-access-app-members-id", precedence: 3 },
    { id: "edgelock-access-app-deny-rest-id", precedence: 4 },
  ]);
});

test("policy selectors map one per element", () => {
  const policy = (name: string) => recorder.one("cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy", `edgelock-access-app-${name}`).inputs;
  const token = recorder.one("cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken");
  assert.equal(token.inputs.duration, "720h");
  assert.equal(token.inputs.name, "edgelock-ci");

  assert.equal(policy("ci").decision, "non_identity");
  assert.deepEqual(policy("ci").includes, [{ serviceToken: { tokenId: `${token.name}-id` } }, { anyValidServiceToken: {} }]);
  assert.equal(policy("office").decision, "bypass");
  assert.deepEqual(policy("office").includes, [{ ip: { ip: "203.0.113.7/32" } }, { ip: { ip: "2001:db8::/32" } }]);
  assert.equal(policy("members").decision, "allow");
  assert.deepEqual(policy("members").includes, [{ email: { email: "alice@example.com" } }, { emailDomain: { domain: "example.com" } }]);
  assert.deepEqual(policy("members").requires, [{ geo: { countryCode: "JP" } }]);
  assert.deepEqual(policy("members").excludes, [{ email: { email: "mallory@example.com" } }]);
  assert.equal(policy("members").sessionDuration, "8h");
  assert.equal(policy("members").accountId, "cf-account");
  assert.deepEqual(policy("deny-rest").includes, [{ everyone: {} }]);
  assert.equal(policy("deny-rest").decision, "deny");
});

test("function runs arm64 Node 22 with JSON logs", () => {
  const lambda = recorder.one("aws:lambda/function:Function");
  const logGroup = recorder.one("aws:cloudwatch/logGroup:LogGroup");
  assert.equal(lambda.inputs.runtime, "nodejs22.x");
  assert.deepEqual(lambda.inputs.architectures, ["arm64"]);
  assert.equal(lambda.inputs.handler, "index.handler");
  assert.deepEqual(lambda.inputs.loggingConfig, { logFormat: "JSON", logGroup: logGroup.inputs.name });
  assert.equal(logGroup.inputs.retentionInDays, 30);
  assert.deepEqual(lambda.inputs.environment.variables, {
    TEAM_DOMAIN: "acme.cloudflareaccess.com",
    ACCESS_AUD: "aud-edgelock-access-app",
    REQUIRE_ACCESS_TOKEN: "true",
  });
});

test("function role may only write its logs", () => {
  const role = recorder.one("aws:iam/role:Role");
  assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }]);
  const policies = recorder.byType("aws:iam/rolePolicy:RolePolicy");
  assert.equal(policies.length, 1);
  const logGroup = recorder.one("aws:cloudwatch/logGroup:LogGroup");
  assert.deepEqual(JSON.parse(policies[0]?.inputs.policy).Statement, [
    { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroup.state.arn}:*` },
  ]);
  assert.equal(recorder.byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").length, 0);
});

test("Lambda attachment depends on the invoke permission", () => {
  const targetGroup = recorder.one("aws:lb/targetGroup:TargetGroup", "edgelock-tg-echo");
  const permission = recorder.one("aws:lambda/permission:Permission");
  const attachment = recorder.one("aws:lb/targetGroupAttachment:TargetGroupAttachment", "edgelock-tg-echo-attachment");
  const lambda = recorder.one("aws:lambda/function:Function");
  assert.equal(targetGroup.inputs.targetType, "lambda");
  assert.equal(targetGroup.inputs.lambdaMultiValueHeadersEnabled, false);
  assert.equal(permission.inputs.principal, "elasticloadbalancing.amazonaws.com");
  assert.equal(permission.inputs.action, "lambda:InvokeFunction");
  assert.equal(permission.inputs.sourceArn, targetGroup.state.arn);
  assert.equal(permission.inputs.function, lambda.state.arn);
  assert.equal(attachment.inputs.targetId, lambda.state.arn);
  assert.equal(attachment.inputs.targetGroupArn, targetGroup.state.arn);
  // The permission is no input of the attachment, so only dependsOn can put it in the dependency list.
  assert.ok(attachment.dependsOn.map((urn) => byUrn(urn).name).includes(permission.name), "attachment depends on the permission");
  assert.ok(!JSON.stringify(attachment.inputs).includes(permission.name));
});

test("HTTP target is open to the ALB only", () => {
  const targetGroup = recorder.one("aws:lb/targetGroup:TargetGroup", "edgelock-tg-web");
  assert.equal(targetGroup.inputs.targetType, "ip");
  assert.equal(targetGroup.inputs.port, 8080);
  assert.equal(targetGroup.inputs.vpcId, "vpc-0123456789abcdef0");
  assert.equal(targetGroup.inputs.healthCheck.path, "/healthz");
  const attachment = recorder.one("aws:lb/targetGroupAttachment:TargetGroupAttachment", "edgelock-tg-web-target-0");
  assert.equal(attachment.inputs.targetId, "10.0.1.15");

  const rules = recorder.byType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
  assert.equal(rules.length, 1);
  assert.deepEqual(
    { ...rules[0]?.inputs, description: undefined },
    { securityGroupId: "sg-0fedcba9876543210", referencedSecurityGroupId: "edgelock-alb-sg-id", ipProtocol: "tcp", fromPort: 8080, toPort: 8080, description: undefined },
  );
});

test("listener rules keep priority, conditions and action", () => {
  const rules = recorder.byType("aws:lb/listenerRule:ListenerRule").sort((a, b) => a.inputs.priority - b.inputs.priority);
  const listener = recorder.one("aws:lb/listener:Listener");
  assert.deepEqual(rules.map((rule) => rule.inputs.priority), [10, 20, 100]);
  for (const rule of rules) assert.equal(rule.inputs.listenerArn, listener.state.arn);
  assert.deepEqual(rules[0]?.inputs.conditions, [{ pathPattern: { values: ["/health"] } }, { httpRequestMethod: { values: ["GET"] } }]);
  assert.deepEqual(rules[0]?.inputs.actions, [{ type: "fixed-response", fixedResponse: { statusCode: "200", contentType: "text/plain", messageBody: "ok" } }]);
  assert.deepEqual(rules[1]?.inputs.conditions, [{ pathPattern: { values: ["/api/*"] } }, { sourceIp: { values: ["198.51.100.1/32"] } }]);
  assert.deepEqual(rules[1]?.inputs.actions, [{ type: "forward", targetGroupArn: recorder.one("aws:lb/targetGroup:TargetGroup", "edgelock-tg-web").state.arn }]);
  assert.deepEqual(rules[2]?.inputs.actions, [{ type: "forward", targetGroupArn: recorder.one("aws:lb/targetGroup:TargetGroup", "edgelock-tg-echo").state.arn }]);
});

test("ACM certificate is validated in Route 53", () => {
  const certificate = recorder.one("aws:acm/certificate:Certificate");
  assert.equal(certificate.inputs.domainName, "origin.example.com");
  assert.equal(certificate.inputs.validationMethod, "DNS");
  const record = recorder.one("aws:route53/record:Record", "edgelock-origin-validation");
  assert.equal(record.inputs.name, "_x.origin.example.com.");
  assert.deepEqual(record.inputs.records, ["_y.acm-validations.aws."]);
  assert.equal(record.inputs.zoneId, "ZROUTE53");
  assert.deepEqual(recorder.one("aws:acm/certificateValidation:CertificateValidation").inputs.validationRecordFqdns, ["_x.origin.example.com."]);
});

test("children are named after their component", () => {
  for (const resource of recorder.resources) assert.match(resource.name, /^edgelock(-|$)/, `${resource.type} ${resource.name}`);
});
