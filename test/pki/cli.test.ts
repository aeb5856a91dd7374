import "reflect-metadata";
import assert from "node:assert/strict";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { main } from "../../src/cli/main.ts";
import { openPkiStore } from "../../src/pki/store.ts";
import { openssl, snapshotFolder, temporaryFolder } from "./fixtures.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function stateDir(t: TestContext): string {
  return join(temporaryFolder(t), "pki");
}

function assertNoPrivateKey(result: Run): void {
  assert.doesNotMatch(result.out, /PRIVATE KEY/);
  assert.doesNotMatch(result.err, /PRIVATE KEY/);
}

test("init issue and list as text", async (t) => {
  const dir = stateDir(t);
  const init = await run("pki", "init", "--dir", dir, "--cn", "cli root", "--org", "edgelock", "--country", "DE");
  assert.equal(init.code, 0);
  assert.match(init.out, /^Created root CA "C=DE, O=edgelock, CN=cli root" \(serial [0-9A-F]+, ecdsa-p256, valid until \d{4}-/);
  assert.match(init.out, /private key  .*ca\/key\.pem \(mode 0600/);

  const client = await run("pki", "issue", "client", "origin-pull", "--dir", dir);
  assert.equal(client.code, 0);
  assert.match(client.out, /^Issued client certificate "origin-pull" \(serial ([0-9A-F]+), ecdsa-p256, valid until /);
  const server = await run("pki", "issue", "server", "listener", "--dns", "app.localhost", "--dns", "origin.localhost", "--ip", "127.0.0.1", "--dir", dir);
  assert.equal(server.code, 0);
  assert.match(server.out, /names        app\.localhost, origin\.localhost, 127\.0\.0\.1/);
  assert.match(openssl(["x509", "-in", join(dir, "issued", "listener", "cert.pem"), "-noout", "-ext", "subjectAltName"]), /DNS:app\.localhost, DNS:origin\.localhost, IP Address:127\.0\.0\.1/);

  const list = await run("pki", "list", "--dir", dir);
  assert.equal(list.code, 0);
  assert.equal(list.err, "");
  const lines = list.out.split("\n");
  assert.match(lines[0] ?? "", /^NAME\s+PROFILE\s+SERIAL\s+SUBJECT\s+ISSUER\s+NOT BEFORE\s+NOT AFTER\s+DAYS LEFT\s+STATUS$/);
  assert.match(lines[1] ?? "", /^\(root CA\)\s+ca\s+[0-9A-F]+\s+C=DE, O=edgelock, CN=cli root\s+.*\s+1824\s+valid$/);
  assert.match(lines[2] ?? "", /^origin-pull\s+client\s+[0-9A-F]{32}\s+O=edgelock, CN=origin-pull\s+C=DE, O=edgelock, CN=cli root\s+\d{4}-\d\d-\d\d\s+\d{4}-\d\d-\d\d\s+729\s+valid$/);
  assert.match(lines[3] ?? "", /^listener\s+server\s+/);
  for (const result of [init, client, server, list]) assertNoPrivateKey(result);
});

test("every action prints JSON", async (t) => {
  const dir = stateDir(t);
  const init = JSON.parse((await run("pki", "init", "--dir", dir, "--json")).out);
  assert.equal(init.ca.subject, "CN=edgelock root CA");
  assert.equal(init.paths.caKey, join(dir, "ca", "key.pem"));

  const issued = await run("pki", "issue", "client", "edge", "--dir", dir, "--json", "--days", "90");
  assertNoPrivateKey(issued);
  const info = JSON.parse(issued.out);
  assert.equal(info.name, "edge");
  assert.equal(info.daysLeft, 89);
  assert.equal(info.keyPath, join(dir, "issued", "edge", "key.pem"));

  const revoked = JSON.parse((await run("pki", "revoke", info.serial, "--dir", dir, "--json")).out);
  assert.equal(revoked.status, "revoked");
  assert.equal(revoked.crlPath, join(dir, "crl.pem"));

  const crl = JSON.parse((await run("pki", "crl", "--dir", dir, "--json", "--days", "7")).out);
  assert.equal(crl.number, 3);
  assert.match(crl.pem, /^-----BEGIN X509 CRL-----\n/);

  const bundle = JSON.parse((await run("pki", "bundle", "--dir", dir, "--json")).out);
  assert.equal(bundle.certificates, 1);
  assert.deepEqual(bundle.dropped, []);

  const list = JSON.parse((await run("pki", "list", "--dir", dir, "--json")).out);
  assert.equal(list.ca.subject, "CN=edgelock root CA");
  assert.deepEqual(list.certificates.map((entry: { name: string; status: string }) => [entry.name, entry.status]), [["edge", "revoked"]]);
});

test("help for every action", async () => {
  const overview = await run("pki", "--help");
  assert.equal(overview.code, 0);
  assert.match(overview.out, /^Usage: edgelock pki <action> \[options\]/);
  for (const action of ["init", "issue", "revoke", "crl", "bundle", "list"]) {
    assert.match(overview.out, new RegExp(`\\n  ${action} +\\w`));
    const help = await run("pki", action, "--help");
    assert.equal(help.code, 0);
    assert.match(help.out, new RegExp(`^Usage: edgelock pki ${action}`));
    assert.match(help.out, /--dir DIR {9}PKI state folder \(default \.edgelock\/pki\)/);
    assert.match(help.out, /--json {12}print the result as JSON/);
  }
  assert.match((await run("pki", "issue", "server", "x", "--help")).out, /--dns HOST {8}DNS name for the server certificate/);
});

test("list warns and fails on expiry", async (t) => {
  const dir = stateDir(t);
  assert.equal((await run("pki", "init", "--dir", dir)).code, 0);
  assert.equal((await run("pki", "issue", "client", "soon", "--dir", dir, "--days", "10")).code, 0);

  const warned = await run("pki", "list", "--dir", dir);
  assert.equal(warned.code, 0);
  assert.match(warned.err, /^warning: certificate "soon" expires on \S+ \(in 9 days\)$/);

  const store = openPkiStore(dir);
  await store.issue("client", "old", { validityDays: 1, now: new Date(Date.now() - 3 * 86_400_000) });
  const failed = await run("pki", "list", "--dir", dir, "--json");
  assert.equal(failed.code, 1);
  assert.match(failed.err, /error: certificate "old" expired on /);
  assert.equal(JSON.parse(failed.out).certificates[1].status, "expired");

  await store.revoke("old");
  assert.equal((await run("pki", "list", "--dir", dir)).code, 0);
});

test("errors print one line", async (t) => {
  const dir = stateDir(t);
  const missing = await run("pki", "issue", "client", "edge", "--dir", dir);
  assert.equal(missing.code, 1);
  assert.equal(missing.err, `edgelock pki: no root CA in ${dir}; run "edgelock pki init" first (or pass --dir to use another folder)`);
  assert.equal(missing.out, "");

  assert.equal((await run("pki", "init", "--dir", dir)).code, 0);
  assert.equal((await run("pki", "issue", "client", "edge", "--dir", dir)).code, 0);
  const before = snapshotFolder(dir);
  const cases: [string[], number, RegExp][] = [
    [["issue", "client", "edge"], 1, /^edgelock pki: a certificate named "edge" already exists \(serial [0-9A-F]+, valid until .*\); revoke it first with "edgelock pki revoke edge", or pass --force to replace it$/],
    [["issue", "client", "new", "--key-type", "ed25519"], 1, /^edgelock pki: unsupported key type "ed25519" \(Ed25519 and Ed448 are not supported by ALB trust stores\); accepted key types: /],
    [["issue", "client", "new", "--key-type", "rsa-1024"], 1, /RSA keys below 2048 bits are not supported by ALB trust stores/],
    [["issue", "client", "new", "--days", "ten"], 2, /^edgelock pki: --days must be a whole number of days, such as 30 \(got "ten"\)$/],
    [["issue", "laptop", "new"], 2, /^edgelock pki: unknown certificate profile "laptop"; use "edgelock pki issue client NAME"/],
    [["issue", "client"], 2, /^edgelock pki: expected 2 arguments \(got "client"\)\. Usage: edgelock pki issue client NAME/],
    [["init", "--dns", "x"], 2, /^edgelock pki: Unknown option '--dns'\. See "edgelock pki init --help"\.$/],
    [["init"], 1, /^edgelock pki: a root CA already exists in /],
    [["revoke", "nobody"], 1, /^edgelock pki: no certificate named or with serial "nobody"/],
    [["frobnicate"], 2, /^edgelock pki: unknown action "frobnicate"; use one of init, issue, revoke, crl, bundle, list\./],
  ];
  for (const [args, code, message] of cases) {
    const result = await run("pki", ...args, "--dir", dir);
    assert.equal(result.code, code, args.join(" "));
    assert.match(result.err, message);
    assert.equal(result.err.split("\n").length, 1);
  }
  assert.deepEqual(snapshotFolder(dir), before);
});

test("bundle add warns when a CA is dropped", async (t) => {
  const dir = stateDir(t);
  const other = stateDir(t);
  assert.equal((await run("pki", "init", "--dir", dir)).code, 0);
  assert.equal((await run("pki", "init", "--dir", other, "--cn", "next root")).code, 0);

  const added = await run("pki", "bundle", "--dir", dir, "--add", join(other, "ca", "cert.pem"));
  assert.equal(added.code, 0);
  assert.match(added.out, /^Wrote 2 CA certificates to /);

  const rebuilt = await run("pki", "bundle", "--dir", dir);
  assert.match(rebuilt.out, /^Wrote 1 CA certificate to /);
  assert.equal(rebuilt.err, 'warning: the new bundle no longer contains "CN=next root"; pass its file with --add to keep trusting it');
});

test("slow key types print progress", async (t) => {
  const dir = stateDir(t);
  assert.equal((await run("pki", "init", "--dir", dir)).code, 0);
  const result = await run("pki", "issue", "client", "rsa", "--dir", dir, "--key-type", "rsa-3072");
  assert.equal(result.code, 0);
  assert.equal(result.err, 'generating rsa-3072 key for "rsa"; this can take several seconds');
});
