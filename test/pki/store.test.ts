import "reflect-metadata";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { writeFileAtomic, writePrivateFile } from "../../src/shared/fs-atomic.ts";
import { PkiError, type PkiErrorCode } from "../../src/pki/errors.ts";
import { openPkiStore, type PkiStore } from "../../src/pki/store.ts";
import { fileMode, openssl, opensslStatus, snapshotFolder, temporaryFolder } from "./fixtures.ts";

const SUBJECT = { commonName: "edgelock test root CA", organization: "edgelock", country: "DE" };

async function initStore(t: TestContext): Promise<PkiStore> {
  const store = openPkiStore(join(temporaryFolder(t), "pki"));
  await store.init({ subject: SUBJECT });
  return store;
}

function assertPkiError(error: unknown, code: PkiErrorCode, message: RegExp): true {
  assert.ok(error instanceof PkiError, `expected PkiError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.match(error.message, message);
  return true;
}

/** Runs `action`, expects the PKI error, and checks that the state folder did not change. */
async function assertRejectsUnchanged(store: PkiStore, action: () => Promise<unknown> | unknown, code: PkiErrorCode, message: RegExp): Promise<void> {
  const before = snapshotFolder(store.paths.dir);
  await assert.rejects(async () => action(), (error) => assertPkiError(error, code, message));
  assert.deepEqual(snapshotFolder(store.paths.dir), before);
}

test("init writes the CA, CRL and bundle", async (t) => {
  const store = await initStore(t);
  const ca = store.ca();

  assert.equal(fileMode(store.paths.caKey), 0o600);
  assert.equal(fileMode(store.paths.caCert), 0o644);
  assert.ok(existsSync(store.paths.crl));
  assert.ok(existsSync(store.paths.bundle));
  assert.equal(ca.subject, "C=DE, O=edgelock, CN=edgelock test root CA");
  assert.match(ca.serial, /^[0-9A-F]+$/);
  assert.equal(ca.keyType, "ecdsa-p256");
  assert.equal(ca.daysLeft, 1824);

  const text = openssl(["x509", "-in", store.paths.caCert, "-noout", "-text"]);
  assert.match(text, /CA:TRUE/);
  assert.match(text, /Certificate Sign, CRL Sign/);
  assert.match(openssl(["x509", "-in", store.paths.caCert, "-noout", "-serial"]), new RegExp(`serial=${ca.serial}`));
  assert.equal(readFileSync(store.paths.bundle, "utf8"), readFileSync(store.paths.caCert, "utf8"));
  assert.match(openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]), /X509v3 CRL Number: \n\s+1\n[\s\S]*No Revoked Certificates/);
});

test("client certificate passes openssl verify", async (t) => {
  const store = await initStore(t);
  const info = await store.issue("client", "origin-pull");

  assert.equal(fileMode(store.paths.key("origin-pull")), 0o600);
  assert.equal(info.profile, "client");
  assert.equal(info.subject, "O=edgelock, CN=origin-pull");
  assert.equal(info.issuer, "C=DE, O=edgelock, CN=edgelock test root CA");
  assert.equal(info.daysLeft, 729);
  assert.equal(info.status, "valid");

  const verified = openssl(["verify", "-CAfile", store.paths.caCert, "-purpose", "sslclient", store.paths.certificate("origin-pull")]);
  assert.match(verified, /: OK/);
  const text = openssl(["x509", "-in", store.paths.certificate("origin-pull"), "-noout", "-text"]);
  assert.match(text, /CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(text, /TLS Web Client Authentication/);
  assert.doesNotMatch(text, /TLS Web Server Authentication/);
  assert.match(openssl(["x509", "-in", store.paths.certificate("origin-pull"), "-noout", "-serial"]), new RegExp(`serial=${info.serial}`));
});

test("server certificate carries SANs", async (t) => {
  const store = await initStore(t);
  const info = await store.issue("server", "listener", { dnsNames: ["App.Localhost", "origin.localhost"], ipAddresses: ["127.0.0.1", "::1"] });

  assert.deepEqual(info.dnsNames, ["app.localhost", "origin.localhost"]);
  const verified = openssl(["verify", "-CAfile", store.paths.caCert, "-purpose", "sslserver", store.paths.certificate("listener")]);
  assert.match(verified, /: OK/);
  const text = openssl(["x509", "-in", store.paths.certificate("listener"), "-noout", "-text"]);
  assert.match(text, /DNS:app\.localhost, DNS:origin\.localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(text, /TLS Web Server Authentication/);
  assert.match(text, /CA:FALSE/);
});

test("server certificate needs a name", async (t) => {
  const store = await initStore(t);
  await assertRejectsUnchanged(store, () => store.issue("server", "listener"), "ERR_PKI_INVALID_INPUT", /a server certificate needs at least one --dns or --ip name/);
  await assertRejectsUnchanged(store, () => store.issue("server", "listener", { ipAddresses: ["300.1.1.1"] }), "ERR_PKI_INVALID_INPUT", /"300\.1\.1\.1" is not an IP address/);
  await assertRejectsUnchanged(store, () => store.issue("client", "edge", { dnsNames: ["a.localhost"] }), "ERR_PKI_INVALID_INPUT", /--dns and --ip apply only to server certificates/);
});

test("revocation shows in openssl crl_check", async (t) => {
  const store = await initStore(t);
  const first = await store.issue("client", "first");
  const second = await store.issue("client", "second");

  const revoked = await store.revoke("first");
  assert.equal(revoked.status, "revoked");
  const check = (name: string) =>
    opensslStatus(["verify", "-crl_check", "-CAfile", store.paths.caCert, "-CRLfile", store.paths.crl, store.paths.certificate(name)]);
  const firstCheck = check("first");
  assert.notEqual(firstCheck.status, 0);
  assert.match(firstCheck.output, /certificate revoked/);
  assert.equal(check("second").status, 0);
  const crlAfterFirst = openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]);
  assert.match(crlAfterFirst, /X509v3 CRL Number: \n\s+2\n/);
  assert.match(crlAfterFirst, new RegExp(`Serial Number: ${first.serial}`));

  await store.revoke(second.serial.toLowerCase());
  const secondCheck = check("second");
  assert.match(secondCheck.output, /certificate revoked/);
  const crlAfterSecond = openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]);
  assert.match(crlAfterSecond, /X509v3 CRL Number: \n\s+3\n/);
  assert.match(crlAfterSecond, new RegExp(`Serial Number: ${first.serial}`));
  assert.match(crlAfterSecond, new RegExp(`Serial Number: ${second.serial}`));
});

test("CRL sets nextUpdate and keeps numbering", async (t) => {
  const store = await initStore(t);
  const now = new Date();
  const crl = await store.writeCrl({ now, nextUpdateDays: 7 });

  assert.equal(crl.number, 2);
  assert.ok(crl.pem.startsWith("-----BEGIN X509 CRL-----\n"));
  assert.equal(readFileSync(store.paths.crl, "utf8"), crl.pem);
  const nextUpdate = openssl(["crl", "-in", store.paths.crl, "-noout", "-nextupdate"]).replace("nextUpdate=", "").trim();
  assert.equal(Math.round((Date.parse(nextUpdate) - now.getTime()) / 86_400_000), 7);
  assert.equal((await store.writeCrl()).number, 3);
});

test("expired revocations leave the CRL", async (t) => {
  const store = await initStore(t);
  const info = await store.issue("client", "short", { validityDays: 1 });
  await store.revoke("short");
  assert.match(openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]), new RegExp(info.serial));

  await store.writeCrl({ now: new Date(Date.now() + 2 * 86_400_000) });
  assert.match(openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]), /No Revoked Certificates/);
});

test("revoke errors name the certificate", async (t) => {
  const store = await initStore(t);
  const info = await store.issue("client", "edge");
  await store.revoke("edge");

  await assertRejectsUnchanged(store, () => store.revoke("edge"), "ERR_PKI_ALREADY_REVOKED", new RegExp(`^certificate "edge" \\(serial ${info.serial}\\) was already revoked at `));
  await assertRejectsUnchanged(store, () => store.revoke("nobody"), "ERR_PKI_NOT_FOUND", /^no certificate named or with serial "nobody" in .*; run "edgelock pki list" to see names and serials$/);
});

test("name clash needs revoke or force", async (t) => {
  const store = await initStore(t);
  const first = await store.issue("client", "edge");

  await assertRejectsUnchanged(
    store,
    () => store.issue("client", "edge"),
    "ERR_PKI_NAME_CLASH",
    new RegExp(`^a certificate named "edge" already exists \\(serial ${first.serial}, valid until .*\\); revoke it first with "edgelock pki revoke edge", or pass --force to replace it$`),
  );

  const forced = await store.issue("client", "edge", { force: true });
  await store.revoke("edge");
  const again = await store.issue("client", "edge");
  const list = store.list();
  assert.deepEqual(
    list.map((entry) => [entry.serial, entry.status, entry.inUse]),
    [
      [first.serial, "replaced", false],
      [forced.serial, "revoked", false],
      [again.serial, "valid", true],
    ],
  );
  assert.notEqual(list[1]?.replacedAt, undefined);
  assert.equal(store.readCertificate("edge").info.serial, again.serial);
});

test("invalid names and key types are rejected", async (t) => {
  const store = await initStore(t);
  for (const name of ["Edge", "-edge", "edge/../x", "", "a".repeat(65)]) {
    await assertRejectsUnchanged(store, () => store.issue("client", name), "ERR_PKI_INVALID_INPUT", /^certificate name ".*" is invalid; use lowercase letters, digits, "\." and "-"/);
  }
  const keyTypes: [string, RegExp][] = [
    ["ed25519", /^unsupported key type "ed25519" \(Ed25519 and Ed448 are not supported by ALB trust stores\); accepted key types: ecdsa-p256, /],
    ["rsa-1024", /RSA keys below 2048 bits are not supported/],
    ["secp256k1", /secp256k1 is not supported/],
    ["dsa", /^unsupported key type "dsa"; accepted key types: ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, rsa-8192$/],
  ];
  for (const [keyType, message] of keyTypes) {
    await assertRejectsUnchanged(store, () => store.issue("client", "edge", { keyType }), "ERR_PKI_KEY_TYPE", message);
    await assertRejectsUnchanged(store, () => store.init({ subject: SUBJECT, keyType, force: true }), "ERR_PKI_KEY_TYPE", message);
  }
  await assertRejectsUnchanged(store, () => store.issue("client", "edge", { validityDays: 0 }), "ERR_PKI_INVALID_INPUT", /^--days must be a whole number of days from 1 to 36500 \(got 0\)$/);
  await assertRejectsUnchanged(store, () => store.issue("client", "edge", { validityDays: 3000 }), "ERR_PKI_INVALID_INPUT", /^a 3000-day certificate would outlive the root CA, which expires on /);
});

test("other key types are accepted", async (t) => {
  const store = await initStore(t);
  for (const keyType of ["ecdsa-p384", "ecdsa-p521", "rsa-2048"]) {
    const info = await store.issue("client", keyType, { keyType });
    assert.equal(info.keyType, keyType);
    assert.match(openssl(["verify", "-CAfile", store.paths.caCert, store.paths.certificate(keyType)]), /: OK/);
  }
});

test("missing CA leaves no folder", async (t) => {
  const dir = join(temporaryFolder(t), "none");
  const store = openPkiStore(dir);
  const message = /^no root CA in .*none; run "edgelock pki init" first/;

  assert.equal(store.hasCa(), false);
  await assert.rejects(() => store.issue("client", "edge"), (error) => assertPkiError(error, "ERR_PKI_NO_CA", message));
  await assert.rejects(() => store.revoke("edge"), (error) => assertPkiError(error, "ERR_PKI_NO_CA", message));
  await assert.rejects(() => store.writeCrl(), (error) => assertPkiError(error, "ERR_PKI_NO_CA", message));
  await assert.rejects(() => store.writeBundle(), (error) => assertPkiError(error, "ERR_PKI_NO_CA", message));
  assert.throws(() => store.list(), (error) => assertPkiError(error, "ERR_PKI_NO_CA", message));
  assert.equal(existsSync(dir), false);
});

test("existing CA needs force", async (t) => {
  const store = await initStore(t);
  await assertRejectsUnchanged(store, () => store.init({ subject: SUBJECT }), "ERR_PKI_CA_EXISTS", /^a root CA already exists in .* \(C=DE, O=edgelock, CN=edgelock test root CA, serial [0-9A-F]+\); pass --force/);
  await assertRejectsUnchanged(store, () => store.init({ subject: { commonName: "" }, force: true }), "ERR_PKI_INVALID_INPUT", /the CA subject needs a common name; pass --cn/);
  await assertRejectsUnchanged(store, () => store.init({ subject: { commonName: "x", country: "Germany" }, force: true }), "ERR_PKI_INVALID_INPUT", /--country must be a two-letter ISO 3166 code in capitals, such as "DE" \(got "Germany"\)/);
});

test("init force keeps the old CA", async (t) => {
  const store = await initStore(t);
  const oldCa = store.ca();
  const oldCaPem = readFileSync(store.paths.caCert, "utf8");
  const oldKeyPem = readFileSync(store.paths.caKey, "utf8");
  const oldLeaf = await store.issue("client", "edge");

  const newCa = await store.init({ subject: { commonName: "second root" }, force: true });
  assert.notEqual(newCa.serial, oldCa.serial);
  const retired = join(store.paths.dir, "ca", "retired", oldCa.serial.toLowerCase());
  assert.equal(readFileSync(join(retired, "cert.pem"), "utf8"), oldCaPem);
  assert.equal(readFileSync(join(retired, "key.pem"), "utf8"), oldKeyPem);
  assert.equal(fileMode(join(retired, "key.pem")), 0o600);
  assert.match(openssl(["crl", "-in", store.paths.crl, "-noout", "-text"]), /X509v3 CRL Number: \n\s+2\n/);

  await assertRejectsUnchanged(store, () => store.revoke("edge"), "ERR_PKI_INVALID_INPUT", new RegExp(`issued by the replaced CA with serial ${oldCa.serial}, so the current CA's CRL cannot revoke it`));
  const fresh = await store.issue("client", "edge", { force: true });
  assert.equal(fresh.issuerSerial, newCa.serial);
  assert.equal(store.list()[0]?.serial, oldLeaf.serial);
});

test("corrupt state file is reported", async (t) => {
  const store = await initStore(t);
  const validState = JSON.parse(readFileSync(store.paths.state, "utf8"));
  writeFileAtomic(store.paths.state, "{ not json");
  await assertRejectsUnchanged(store, () => store.issue("client", "edge"), "ERR_PKI_STATE_CORRUPT", /^PKI state file .*state\.json is not valid JSON \(.*\); restore it from a backup, or start a new CA with "edgelock pki init --force"$/);
  await assertRejectsUnchanged(store, () => store.list(), "ERR_PKI_STATE_CORRUPT", /state\.json is not valid JSON/);

  writeFileAtomic(store.paths.state, JSON.stringify({ ...validState, crlNumber: -1 }));
  await assertRejectsUnchanged(store, () => store.revoke("edge"), "ERR_PKI_STATE_CORRUPT", /^PKI state file .*state\.json is invalid: "crlNumber": Too small: expected number to be >=0; restore it/);

  await store.init({ subject: SUBJECT, force: true });
  assert.equal(store.list().length, 0);
  assert.equal(snapshotFolder(store.paths.dir).size > 0, true);
  const kept = [...snapshotFolder(join(store.paths.dir, "ca", "retired")).keys()].filter((path) => path.startsWith("state-"));
  assert.equal(kept.length, 1);
});

test("corrupt CA files are reported", async (t) => {
  const store = await initStore(t);
  const caPem = readFileSync(store.paths.caCert, "utf8");
  writeFileAtomic(store.paths.caCert, "garbage\n");
  await assertRejectsUnchanged(store, () => store.issue("client", "edge"), "ERR_PKI_STATE_CORRUPT", /^.*ca\/cert\.pem is not a valid PEM certificate \(.*\); restore the CA files from a backup/);

  writeFileAtomic(store.paths.caCert, caPem);
  const other = openPkiStore(join(temporaryFolder(t), "other"));
  await other.init({ subject: SUBJECT });
  writePrivateFile(store.paths.caKey, readFileSync(other.paths.caKey, "utf8"));
  await assertRejectsUnchanged(store, () => store.writeCrl(), "ERR_PKI_STATE_CORRUPT", /ca\/key\.pem does not belong to .*ca\/cert\.pem/);
});

test("interrupted change completes on next run", async (t) => {
  const store = await initStore(t);
  const before = snapshotFolder(store.paths.dir);
  const info = await store.issue("client", "edge");
  const after = snapshotFolder(store.paths.dir);

  // Rebuild the folder as a run that stopped right after writing its journal would leave it.
  const changed = [...after].filter(([path, entry]) => !path.endsWith("/") && before.get(path) !== entry);
  const files = changed.map(([path, entry]) => ({ path, content: Buffer.from(entry.split(" ")[1] ?? "", "base64").toString("utf8"), private: entry.startsWith("600 ") }));
  for (const [path, entry] of before) {
    if (!path.endsWith("/")) writeFileSync(join(store.paths.dir, path), Buffer.from(entry.split(" ")[1] ?? "", "base64"));
  }
  writePrivateFile(store.paths.key("edge"), "partial");
  writePrivateFile(join(store.paths.dir, "pending.json"), JSON.stringify({ files }));

  assert.deepEqual(store.list().map((entry) => entry.serial), [info.serial]);
  assert.equal(existsSync(join(store.paths.dir, "pending.json")), false);
  assert.deepEqual(snapshotFolder(store.paths.dir), after);
});

test("list reports expiry and revocation", async (t) => {
  const store = await initStore(t);
  const issuedAt = new Date();
  await store.issue("client", "short", { validityDays: 20, now: issuedAt });
  await store.issue("client", "long", { now: issuedAt });
  await store.issue("client", "gone", { now: issuedAt });
  await store.revoke("gone");

  const today = store.list(issuedAt);
  assert.deepEqual(today.map((entry) => [entry.name, entry.status, entry.daysLeft]), [
    ["short", "expiring", 19],
    ["long", "valid", 729],
    ["gone", "revoked", 729],
  ]);

  const later = store.list(new Date(issuedAt.getTime() + 25 * 86_400_000));
  assert.deepEqual(later.map((entry) => [entry.name, entry.status, entry.daysLeft]), [
    ["short", "expired", -6],
    ["long", "valid", 704],
    ["gone", "revoked", 704],
  ]);
});

test("bundle adds a second CA", async (t) => {
  const store = await initStore(t);
  const other = openPkiStore(join(temporaryFolder(t), "other"));
  await other.init({ subject: { commonName: "next root" } });

  const added = await store.writeBundle({ extraCaFiles: [other.paths.caCert] });
  assert.deepEqual(added.dropped, []);
  assert.equal(added.pem, `${readFileSync(store.paths.caCert, "utf8")}\n${readFileSync(other.paths.caCert, "utf8")}`.replace("\n\n", "\n"));
  assert.equal(readFileSync(store.paths.bundle, "utf8"), added.pem);

  const rebuilt = await store.writeBundle();
  assert.deepEqual(rebuilt.dropped, ["CN=next root"]);

  await store.issue("client", "leaf");
  await assertRejectsUnchanged(store, () => store.writeBundle({ extraCaFiles: [store.paths.certificate("leaf")] }), "ERR_PKI_BUNDLE", /contains "O=edgelock, CN=leaf", which is not a CA certificate \(no basicConstraints CA:TRUE\)/);
  await assertRejectsUnchanged(store, () => store.writeBundle({ extraCaFiles: [join(store.paths.dir, "missing.pem")] }), "ERR_PKI_INVALID_INPUT", /^CA file .*missing\.pem for --add cannot be read/);
});

test("readCertificate returns PEM and key", async (t) => {
  const store = await initStore(t);
  const info = await store.issue("client", "origin-pull");
  const read = store.readCertificate("origin-pull");
  assert.equal(read.info.serial, info.serial);
  assert.match(read.certificatePem, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(read.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.throws(() => store.readCertificate("nobody"), (error) => assertPkiError(error, "ERR_PKI_NOT_FOUND", /^no certificate named "nobody"/));
});
