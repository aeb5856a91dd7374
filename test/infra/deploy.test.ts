import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { preflight, pulumiArguments } from "../../src/cli/commands/deploy.ts";
import { createTestPki, type TestPki } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

let pki: TestPki;
let folder: string;
let configFile: string;

before(async () => {
  pki = await createTestPki({ originPullValidityDays: 20 });
  folder = join(pki.dir, "..");
  configFile = join(folder, "edgelock.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      hosts: { app: "app.example.com", origin: "origin.example.com" },
      access: { applications: [{ name: "app", policies: [{ name: "members", decision: "allow", include: [{ emailDomain: "example.com" }] }] }] },
      pki: { dir: "./pki" },
    }),
  );
});

after(() => pki.cleanup());

test("deploy without prerequisites lists each fix", () => {
  // Only node's own folder on PATH, so no pulumi; no AWS or Cloudflare variables.
  const result = spawnSync(process.execPath, [join(ROOT, "bin/edgelock.js"), "deploy", "--config", configFile], {
    cwd: folder,
    env: { PATH: dirname(process.execPath), HOME: folder },
    encoding: "utf8",
  });
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, "");
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines[0], "edgelock deploy: 4 items are missing before pulumi up can run:");
  assert.equal(lines[1], "  - Pulumi CLI not found on PATH; install it from https://www.pulumi.com/docs/install/ and open a new shell");
  assert.equal(lines[2], '  - no AWS credentials in the environment; export AWS_PROFILE (after "aws sso login"), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  assert.equal(lines[3], '  - no Cloudflare API token; export CLOUDFLARE_API_TOKEN, or store it with "pulumi config set --secret cloudflare:apiToken" and pass --stack NAME');
  assert.match(lines[4] ?? "", /^ {2}- origin-pull certificate .*cert\.pem expires on .* \(in 19 days, under 30\); reissue it with "edgelock pki issue client origin-pull"$/);
  assert.equal(lines.length, 5);
});

test("deploy reports an invalid config with its path", () => {
  const bad = join(folder, "bad.config.json");
  writeFileSync(bad, JSON.stringify({ access: { applications: [] } }));
  const problems = preflight({ destroy: false, configFile: bad, yes: false }, { PATH: "", AWS_PROFILE: "dev", CLOUDFLARE_API_TOKEN: "x" });
  assert.deepEqual(problems.slice(1), ['config: "access.applications": Too small: expected array to have >=1 items']);
});

test("preflight passes with every prerequisite", () => {
  const bin = join(folder, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "pulumi"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, "pulumi"), 0o755);
  const fresh = preflight(
    { destroy: false, configFile, yes: false, stack: "absent-stack" },
    { PATH: bin, AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "example", CLOUDFLARE_API_TOKEN: "token" },
    ROOT,
    new Date(Date.now() - 30 * 86_400_000),
  );
  assert.deepEqual(fresh, []);
});

test("preflight accepts the token as a stack secret", () => {
  const root = join(folder, "project");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "Pulumi.prod.yaml"), "config:\n  cloudflare:apiToken:\n    secure: v1:abc\n");
  const problems = preflight({ destroy: true, configFile, yes: false, stack: "prod" }, { PATH: "", AWS_PROFILE: "prod" }, root);
  assert.deepEqual(problems, ["Pulumi CLI not found on PATH; install it from https://www.pulumi.com/docs/install/ and open a new shell"]);
});

test("preflight rejects a key id without its secret", () => {
  const problems = preflight({ destroy: true, configFile, yes: false }, { PATH: "", AWS_ACCESS_KEY_ID: "AKIAEXAMPLE", CLOUDFLARE_API_TOKEN: "x" });
  assert.deepEqual(problems.slice(1), ["AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY; export both, or use AWS_PROFILE"]);
});

test("pulumi arguments follow the flags", () => {
  assert.deepEqual(pulumiArguments({ destroy: false, configFile: "/etc/edgelock.json", yes: true, stack: "prod" }), [
    "up", "--stack", "prod", "--config", "edgelock:configFile=/etc/edgelock.json", "--yes",
  ]);
  assert.deepEqual(pulumiArguments({ destroy: true, configFile: "/etc/edgelock.json", yes: false }), ["destroy"]);
});
