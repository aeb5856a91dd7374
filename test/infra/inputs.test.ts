import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { bundleHandlerSource } from "../../src/infra/aws/bundle.ts";
import type { InfraError } from "../../src/infra/errors.ts";
import { inspectPkiFiles } from "../../src/infra/pki-files.ts";
import { ECHO_ENTRY_POINT, readStackSettings } from "../../src/infra/settings.ts";
import { openPkiStore } from "../../src/pki/store.ts";
import { createTestPki, type TestPki } from "./harness.ts";

let pki: TestPki;
let expiring: TestPki;

before(async () => {
  pki = await createTestPki();
  expiring = await createTestPki({ originPullValidityDays: 10 });
});

after(() => {
  pki.cleanup();
  expiring.cleanup();
});

test("PKI inspection reads the four deployment files", () => {
  const inspection = inspectPkiFiles(pki.dir, "origin-pull");
  assert.deepEqual(inspection.problems, []);
  assert.deepEqual(inspection.files, pki.files);
});

test("PKI inspection never opens the CA key", () => {
  // The key is replaced by a folder: reading it would fail with EISDIR.
  const paths = openPkiStore(expiring.dir).paths;
  rmSync(paths.caKey);
  mkdtempSync(paths.caKey);
  const inspection = inspectPkiFiles(expiring.dir, "origin-pull");
  assert.ok(inspection.files !== undefined);
});

test("PKI inspection reports an expiring certificate", () => {
  const inspection = inspectPkiFiles(expiring.dir, "origin-pull");
  assert.equal(inspection.problems.length, 1);
  assert.match(inspection.problems[0] ?? "", /^origin-pull certificate .*issued\/origin-pull\/cert\.pem expires on .* \(in 9 days, under 30\); reissue it with "edgelock pki issue client origin-pull"$/);
});

test("PKI inspection reports an expired CRL", () => {
  const later = new Date(Date.now() + 31 * 86_400_000);
  const inspection = inspectPkiFiles(pki.dir, "origin-pull", later);
  assert.ok(inspection.problems.some((problem) => /^CRL .*crl\.pem is past its nextUpdate \(.*\); run "edgelock pki crl"$/.test(problem)), inspection.problems.join("\n"));
});

test("PKI inspection lists every missing file", () => {
  const empty = mkdtempSync(join(tmpdir(), "edgelock-empty-"));
  try {
    const inspection = inspectPkiFiles(empty, "origin-pull");
    assert.equal(inspection.files, undefined);
    assert.deepEqual(
      inspection.problems.map((problem) => problem.replace(empty, "<dir>")),
      [
        'root CA certificate not found at <dir>/ca/cert.pem; run "edgelock pki init"',
        'CA bundle not found at <dir>/bundle.pem; run "edgelock pki bundle"',
        'CRL not found at <dir>/crl.pem; run "edgelock pki crl"',
        'origin-pull certificate not found at <dir>/issued/origin-pull/cert.pem; run "edgelock pki issue client origin-pull"',
        'origin-pull private key not found at <dir>/issued/origin-pull/key.pem; run "edgelock pki issue client origin-pull"',
      ],
    );
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test("stack settings list every missing key", () => {
  pulumi.runtime.setAllConfig({ "edgelock:ipAddressType": "ipv6", "edgelock:subnetIds": "[not json" });
  assert.throws(() => readStackSettings(), (error: InfraError) => {
    assert.equal(error.code, "ERR_INFRA_STACK_CONFIG");
    assert.deepEqual(error.problems.map((problem) => problem.replace(/ \(.*\)$/, "")), [
      'edgelock:cloudflareZoneId is not set; run "pulumi config set edgelock:cloudflareZoneId <zone id from the Cloudflare dashboard>"',
      'edgelock:cloudflareAccountId is not set; run "pulumi config set edgelock:cloudflareAccountId <account id from the Cloudflare dashboard>"',
      'neither edgelock:route53ZoneId nor edgelock:route53ZoneName is set; run "pulumi config set edgelock:route53ZoneName example.com"',
      'edgelock:ipAddressType must be "ipv4" or "dualstack"',
      "edgelock:subnetIds is not valid JSON",
    ]);
    assert.match(error.message, /^Pulumi stack config is incomplete \(5 problems\):/);
    return true;
  });
});

test("stack settings resolve paths against the project root", () => {
  pulumi.runtime.setAllConfig({
    "edgelock:cloudflareZoneId": "zone",
    "edgelock:cloudflareAccountId": "account",
    "edgelock:route53ZoneId": "Z1",
    "edgelock:pkiDir": ".edgelock/pki",
    "edgelock:subnetIds": '["subnet-1","subnet-2"]',
  });
  const settings = readStackSettings();
  const root = new URL("../../", import.meta.url).pathname;
  assert.equal(settings.configFile, join(root, "edgelock.config.json"));
  assert.equal(settings.pkiDir, join(root, ".edgelock/pki"));
  assert.deepEqual(settings.subnetIds, ["subnet-1", "subnet-2"]);
  assert.equal(settings.ipAddressType, "dualstack");
  assert.equal(settings.route53ZoneId, "Z1");
});

test("bundling a missing entry point fails", async () => {
  await assert.rejects(bundleHandlerSource("/nonexistent/handler.ts"), (error: InfraError) => {
    assert.equal(error.code, "ERR_INFRA_INVALID_ARGS");
    assert.equal(error.message, 'Lambda entry point not found: /nonexistent/handler.ts; point the target\'s "handler" at a module that exports "handler"');
    return true;
  });
});

test("bundling a broken module reports esbuild's error", async () => {
  const file = join(pki.dir, "..", "broken.ts");
  writeFileSync(file, "export const handler = async ( => 1;\n");
  await assert.rejects(bundleHandlerSource(file), (error: InfraError) => {
    assert.equal(error.code, "ERR_INFRA_INVALID_ARGS");
    assert.match(error.message, new RegExp(`^bundling ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} failed: `));
    return true;
  });
});

test("echo function bundles into one module", { skip: existsSync(ECHO_ENTRY_POINT) ? false : "src/function/index.ts is not written yet" }, async () => {
  const source = await bundleHandlerSource(ECHO_ENTRY_POINT);
  const file = join(pki.dir, "..", "echo.mjs");
  writeFileSync(file, source);
  const bundled = await import(file);
  assert.equal(typeof bundled.handler, "function");
});
