import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openServiceTokenStore } from "../../src/access/index.ts";
import { main } from "../../src/cli/main.ts";
import { serviceTokenFile } from "../../src/cli/commands/service-token.ts";
import { temporaryFolder } from "./fixtures.ts";

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

test("service-token create, list, revoke", async (t) => {
  const stateDir = temporaryFolder(t);
  const created = await run(["service-token", "create", "ci", "--state-dir", stateDir, "--json"]);
  assert.equal(created.code, 0);
  const token = JSON.parse(created.out.join("\n")) as { name: string; clientId: string; clientSecret: string; expiresAt: string };
  assert.equal(token.name, "ci");
  assert.match(token.clientId, /^[0-9a-f]{32}\.access$/);
  assert.match(token.clientSecret, /^[0-9a-f]{64}$/);
  assert.equal(readFileSync(serviceTokenFile(stateDir), "utf8").includes(token.clientSecret), false, "the secret is not stored");
  assert.deepEqual(openServiceTokenStore(join(stateDir, "access", "service-tokens.json")).verify(token.clientId, token.clientSecret), { name: "ci" });

  const listed = await run(["service-token", "list", "--state-dir", stateDir]);
  assert.equal(listed.code, 0);
  assert.match(listed.out.join("\n"), new RegExp(`^ci\\s+${token.clientId.replace(".", "\\.")}  expires \\d{4}-`));
  assert.equal(listed.out.join("\n").includes(token.clientSecret), false);

  const text = await run(["service-token", "create", "monitor", "--state-dir", stateDir, "--duration", "720h"]);
  assert.equal(text.code, 0);
  assert.match(text.out.join("\n"), /Copy the secret now: it is not shown again\.\n  CF-Access-Client-Id:     [0-9a-f]{32}\.access\n  CF-Access-Client-Secret: [0-9a-f]{64}\n/);

  const revoked = await run(["service-token", "revoke", "ci", "--state-dir", stateDir]);
  assert.deepEqual([revoked.code, revoked.out], [0, ['Revoked service token "ci".']]);
  const again = await run(["service-token", "revoke", "ci", "--state-dir", stateDir]);
  assert.equal(again.code, 2);
  assert.match(again.err.join("\n"), /no service token named "ci"; run "edgelock service-token list"/);
});

test("service-token rejects bad input", async (t) => {
  const stateDir = temporaryFolder(t);
  const badName = await run(["service-token", "create", "CI_Token", "--state-dir", stateDir]);
  assert.equal(badName.code, 2);
  assert.match(badName.err.join("\n"), /token name "CI_Token" must use lowercase letters, digits and "-"/);
  const badDuration = await run(["service-token", "create", "ci", "--state-dir", stateDir, "--duration", "365d"]);
  assert.equal(badDuration.code, 2);
  assert.match(badDuration.err.join("\n"), /--duration "365d" must be a positive Go duration/);
  const duplicate = await run(["service-token", "create", "ci", "--state-dir", stateDir]);
  assert.equal(duplicate.code, 0);
  const clash = await run(["service-token", "create", "ci", "--state-dir", stateDir]);
  assert.equal(clash.code, 1);
  assert.deepEqual(clash.err, [`edgelock service-token: a service token named "ci" exists; revoke it first or pick another name`]);
  const help = await run(["service-token", "--help"]);
  assert.match(help.out.join("\n"), /the secret is shown only this once/);
});
