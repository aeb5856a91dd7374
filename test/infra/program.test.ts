import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { createTestPki, startMocks, valueOf, type Recorder, type TestPki } from "./harness.ts";

let recorder: Recorder;
let pki: TestPki;
let program: Record<string, any>;

before(async () => {
  recorder = await startMocks();
  pki = await createTestPki();
  const folder = join(pki.dir, "..");
  writeFileSync(
    join(folder, "handler.ts"),
    'import { STATUS_CODES } from "node:http";\nexport const handler = async () => ({ statusCode: 200, statusDescription: `200 ${STATUS_CODES[200]}`, body: "bundled" });\n',
  );
  writeFileSync(
    join(folder, "edgelock.config.json"),
    JSON.stringify({
      name: "demo",
      hosts: { app: "app.example.com", origin: "origin.example.com" },
      access: { teamName: "acme", applications: [{ name: "app", policies: [{ name: "members", decision: "allow", include: [{ emailDomain: "example.com" }] }] }] },
      targets: { echo: { type: "lambda", handler: "./handler.ts", requireAccessToken: false } },
      pki: { dir: "./pki" },
    }),
  );
  pulumi.runtime.setAllConfig({
    "edgelock:configFile": join(folder, "edgelock.config.json"),
    "edgelock:cloudflareZoneId": "cf-zone",
    "edgelock:cloudflareAccountId": "cf-account",
    "edgelock:route53ZoneName": "example.com",
    "edgelock:ipAddressType": "ipv4",
  });
  program = await import("../../src/infra/program.ts");
  await recorder.settle();
});

after(() => pki.cleanup());

test("program reads stack config and config file", async () => {
  assert.equal(await valueOf(program.appUrl), "https://app.example.com/");
  assert.equal(await valueOf(program.albDnsName), "demo-alb.elb.mock");
  assert.deepEqual(await valueOf(pulumi.output(program.accessAuds)), { app: "aud-demo-access-app" });
  const lambda = recorder.one("aws:lambda/function:Function");
  assert.equal(lambda.inputs.environment.variables.REQUIRE_ACCESS_TOKEN, "false");
  assert.equal(recorder.one("cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy").inputs.accountId, "cf-account");
});

test("program looks up the zone, VPC and subnets", () => {
  const tokens = recorder.invokes.map((invoke) => invoke.token);
  assert.ok(tokens.includes("aws:route53/getZone:getZone"));
  assert.ok(tokens.includes("aws:ec2/getVpc:getVpc"));
  assert.ok(tokens.includes("aws:ec2/getSubnets:getSubnets"));
  const loadBalancer = recorder.one("aws:lb/loadBalancer:LoadBalancer");
  assert.deepEqual(loadBalancer.inputs.subnets, ["subnet-0aaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbb"]);
  assert.equal(recorder.one("aws:ec2/securityGroup:SecurityGroup").inputs.vpcId, "vpc-0default0000000");
  const aliases = recorder.byType("aws:route53/record:Record").filter((record) => record.inputs.aliases !== undefined);
  assert.deepEqual(aliases.map((record) => [record.inputs.type, record.inputs.zoneId]), [["A", "ZLOOKEDUP"]]);
});

test("program bundles the handler with esbuild", async () => {
  const lambda = recorder.one("aws:lambda/function:Function");
  const assets = await (lambda.inputs.code as pulumi.asset.AssetArchive).assets;
  assert.deepEqual(Object.keys(assets), ["index.mjs"]);
  const source = (await (assets["index.mjs"] as pulumi.asset.StringAsset).text) as string;
  assert.match(source, /bundled/);
  assert.match(source, /export\s*\{[^}]*handler/);

  const file = join(pki.dir, "..", "bundle.mjs");
  writeFileSync(file, source);
  const bundled = await import(file);
  assert.deepEqual(await bundled.handler(), { statusCode: 200, statusDescription: "200 OK", body: "bundled" });
});
