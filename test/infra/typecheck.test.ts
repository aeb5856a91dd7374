import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;

test("mistyped provider property fails tsc", () => {
  // The folder sits in the project so that @pulumi/aws resolves from its node_modules.
  const folder = mkdtempSync(join(ROOT, "test/infra/.typecheck-"));
  try {
    writeFileSync(
      join(folder, "listener.ts"),
      [
        'import * as aws from "@pulumi/aws";',
        'import { Listener } from "../../../src/infra/aws/listener.ts";',
        "void Listener;",
        'new aws.lb.Listener("typo", {',
        '  loadBalancerArn: "arn",',
        '  defaultActions: [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404" } }],',
        '  mutualAuthentication: { mode: "verify", trustStoreArn: "arn", ignoreClientCertificateExpiri: false },',
        "});",
        "",
      ].join("\n"),
    );
    writeFileSync(join(folder, "tsconfig.json"), JSON.stringify({ extends: "../../../tsconfig.json", include: ["listener.ts"] }));

    const result = spawnSync(join(ROOT, "node_modules/.bin/tsc"), ["--noEmit", "-p", join(folder, "tsconfig.json")], { encoding: "utf8" });
    const errors = result.stdout.split("\n").filter((line) => line.includes("error TS"));
    assert.equal(result.status, 2, result.stdout);
    assert.equal(errors.length, 1, result.stdout);
    assert.match(errors[0] ?? "", /listener\.ts\(7,\d+\): error TS2353: .*'ignoreClientCertificateExpiri' does not exist in type 'ListenerMutualAuthentication/);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
