import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AccessError, openServiceTokenStore } from "../../src/access/index.ts";
import { NOW } from "./fixtures.ts";

function tokenFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-service-tokens-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "state", "service-tokens.json");
}

test("create returns id and secret once", (t) => {
  const file = tokenFile(t);
  const store = openServiceTokenStore(file);
  const created = store.create("ci", { durationSeconds: 3600, now: NOW });

  assert.equal(created.name, "ci");
  assert.match(created.clientId, /^[0-9a-f]{32}\.access$/);
  assert.match(created.clientSecret, /^[0-9a-f]{64}$/);
  assert.equal(created.expiresAt.toISOString(), "2026-03-01T10:00:00.000Z");
  assert.deepEqual(store.list(NOW), [{ name: "ci", clientId: created.clientId, createdAt: NOW, expiresAt: created.expiresAt, expired: false }]);
});

test("secret is not stored in clear", (t) => {
  const file = tokenFile(t);
  const created = openServiceTokenStore(file).create("ci", { now: NOW });
  const content = readFileSync(file, "utf8");

  assert.equal(content.includes(created.clientSecret), false);
  assert.equal(content.includes(created.clientSecret.toUpperCase()), false);
  assert.equal(content.includes(Buffer.from(created.clientSecret, "hex").toString("base64")), false);
  assert.ok(content.includes(created.clientId));
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test("verify checks secret and expiry", (t) => {
  const store = openServiceTokenStore(tokenFile(t));
  const ci = store.create("ci", { durationSeconds: 600, now: NOW });
  const monitor = store.create("monitor", { now: NOW });

  assert.deepEqual(store.verify(ci.clientId, ci.clientSecret, NOW), { name: "ci" });
  assert.deepEqual(store.verify(monitor.clientId, monitor.clientSecret, NOW), { name: "monitor" });
  assert.equal(store.verify(ci.clientId, monitor.clientSecret, NOW), undefined);
  assert.equal(store.verify(monitor.clientId, ci.clientSecret, NOW), undefined);
  assert.equal(store.verify(ci.clientId, ci.clientSecret.toUpperCase(), NOW), undefined);
  assert.equal(store.verify(ci.clientId, "", NOW), undefined);
  assert.equal(store.verify(`${"0".repeat(32)}.access`, ci.clientSecret, NOW), undefined);

  const expiry = new Date(NOW.getTime() + 600_000);
  assert.deepEqual(store.verify(ci.clientId, ci.clientSecret, new Date(expiry.getTime() - 1)), { name: "ci" });
  assert.equal(store.verify(ci.clientId, ci.clientSecret, expiry), undefined);
  assert.equal(store.list(expiry).find((token) => token.name === "ci")?.expired, true);
});

test("revoke deletes the token", (t) => {
  const store = openServiceTokenStore(tokenFile(t));
  const ci = store.create("ci", { now: NOW });
  assert.equal(store.revoke("ci"), true);
  assert.equal(store.revoke("ci"), false);
  assert.equal(store.verify(ci.clientId, ci.clientSecret, NOW), undefined);
  assert.deepEqual(store.list(NOW), []);
});

test("another process's changes are seen", (t) => {
  const file = tokenFile(t);
  const edge = openServiceTokenStore(file);
  assert.deepEqual(edge.list(NOW), []);

  const created = openServiceTokenStore(file).create("ci", { now: NOW });
  assert.deepEqual(edge.verify(created.clientId, created.clientSecret, NOW), { name: "ci" });
  openServiceTokenStore(file).revoke("ci");
  assert.equal(edge.verify(created.clientId, created.clientSecret, NOW), undefined);
});

test("create rejects bad names and durations", (t) => {
  const store = openServiceTokenStore(tokenFile(t));
  store.create("ci", { now: NOW });
  const cases: [() => unknown, string, string][] = [
    [() => store.create("ci"), "ERR_SERVICE_TOKEN_EXISTS", 'a service token named "ci" exists; revoke it first or pick another name'],
    [() => store.create("CI Bot"), "ERR_ACCESS_INVALID_INPUT", 'service token name must be lowercase letters, digits and "-" (got "CI Bot")'],
    [() => store.create("bot", { durationSeconds: 1.5 }), "ERR_ACCESS_INVALID_INPUT", "durationSeconds must be a positive whole number of seconds (got 1.5)"],
  ];
  for (const [action, code, message] of cases) {
    assert.throws(action, (error: AccessError) => {
      assert.ok(error instanceof AccessError);
      assert.equal(error.code, code);
      assert.equal(error.message, message);
      return true;
    });
  }
});

test("default lifetime is one year", (t) => {
  const created = openServiceTokenStore(tokenFile(t)).create("ci", { now: NOW });
  assert.equal(created.expiresAt.getTime() - NOW.getTime(), 8760 * 3600 * 1000);
});

test("corrupt file is reported", (t) => {
  const file = tokenFile(t);
  openServiceTokenStore(file).create("ci", { now: NOW });
  writeFileSync(file, "not json");
  assert.throws(
    () => openServiceTokenStore(file).list(),
    (error: AccessError) => {
      assert.equal(error.code, "ERR_SERVICE_TOKEN_STORE_CORRUPT");
      assert.equal(error.message, `${file} cannot be read as JSON; restore it or delete it (every token is then gone)`);
      return true;
    },
  );
});
