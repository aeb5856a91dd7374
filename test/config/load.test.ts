import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, defaultConfigInput, ensureConfigFile, loadConfig, parseConfig } from "../../src/config/index.ts";
import { durationSeconds } from "../../src/config/schema/common.ts";

test("reference example is valid", () => {
  const { config } = loadConfig("examples/reference.config.json");
  assert.equal(config.access.applications[0]?.sessionDuration, "72h");
  assert.equal(config.alb.rules[0]?.priority, 100);
  assert.deepEqual(config.alb.rules[0]?.conditions.pathPattern, ["/*"]);
  assert.equal(config.alb.mutualAuthentication.mode, "verify");
});

test("defaults fill every section", () => {
  const config = parseConfig(defaultConfigInput());
  assert.equal(config.local.edge.port, 8443);
  assert.equal(config.local.alb.port, 9443);
  assert.equal(config.alb.sslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06");
  assert.deepEqual(config.alb.defaultAction, { fixedResponse: { statusCode: 404, contentType: "text/plain", messageBody: "Not Found" } });
  assert.equal(config.targets.echo?.type, "lambda");
});

test("unknown keys are rejected with their path", () => {
  const input = { ...defaultConfigInput(), local: { edge: { prot: 1 } } };
  assert.throws(() => parseConfig(input), (error: ConfigError) => {
    assert.equal(error.code, "ERR_CONFIG_INVALID");
    assert.match(error.message, /"local\.edge": Unrecognized key.*"prot"/);
    return true;
  });
});

test("every problem is reported at once", () => {
  const input = defaultConfigInput() as Record<string, any>;
  input.access.applications[0].sessionDuration = "3d";
  input.access.applications[0].policies[0].include = [{ emailDomain: "@example.com" }];
  assert.throws(() => parseConfig(input), (error: ConfigError) => {
    assert.equal(error.problems.length, 2);
    assert.match(error.message, /"access\.applications\[0\]\.sessionDuration": .*write "72h"/);
    assert.match(error.message, /"access\.applications\[0\]\.policies\[0\]\.include\[0\]/);
    return true;
  });
});

test("mutual authentication attributes follow the mode", () => {
  const input = { ...defaultConfigInput(), alb: { mutualAuthentication: { mode: "passthrough", ignoreClientCertificateExpiry: false } } };
  assert.throws(() => parseConfig(input), /"alb\.mutualAuthentication\.ignoreClientCertificateExpiry": Mutual Authentication mode passthrough does not support ignoring certificate expiry/);

  const off = { ...defaultConfigInput(), alb: { mutualAuthentication: { mode: "off", advertiseTrustStoreCaNames: "on" } } };
  assert.throws(() => parseConfig(off), /advertiseTrustStoreCaNames applies only to mode "verify"/);
});

test("forward to an unknown target is rejected", () => {
  const input = { ...defaultConfigInput(), alb: { rules: [{ priority: 1, conditions: { pathPattern: ["/*"] }, action: { forward: "web" } }] } };
  assert.throws(() => parseConfig(input), /"alb\.rules\[0\]\.action\.forward": forwards to target "web"/);
});

test("bad JSON names the file", () => {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-config-"));
  const file = join(folder, "edgelock.config.json");
  writeFileSync(file, "{ nope");
  assert.throws(() => loadConfig(file), (error: ConfigError) => error.code === "ERR_CONFIG_SYNTAX" && error.message.includes(file));
});

test("default file is written once", () => {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-config-"));
  const file = join(folder, "edgelock.config.json");
  assert.equal(ensureConfigFile(file), true);
  writeFileSync(file, readFileSync(file, "utf8").replace("example.com\"", "example.org\""));
  assert.equal(ensureConfigFile(file), false);
  assert.match(readFileSync(file, "utf8"), /example\.org/);
});

test("Go durations convert to seconds", () => {
  assert.equal(durationSeconds("72h"), 259200);
  assert.equal(durationSeconds("1h30m"), 5400);
  assert.equal(durationSeconds("90s"), 90);
});
