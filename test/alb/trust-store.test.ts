/** Trust-store loading: bundle and CRL rejections with their codes and messages, and snapshot semantics on reload. */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { AlbError, createTrustStore, loadTrustStore, parseCertificate } from "../../src/alb/index.ts";
import { createCrl, createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { PkiError } from "../../src/pki/errors.ts";
import { createServerPki, exchange, joinPem, logLine, startListener, temporaryFolder, type ServerPki } from "./fixtures.ts";

let pki: ServerPki;
let root: IssuedCertificate;
let other: IssuedCertificate;
let client: IssuedCertificate;

before(async () => {
  pki = await createServerPki();
  root = await createRootCa({ commonName: "store root" });
  other = await createRootCa({ commonName: "other root" });
  client = await issueLeaf(root, { profile: "client", subject: { commonName: "store client" } });
});

test("bundle with a blank line is rejected", () => {
  const bundle = `${joinPem(root.certificatePem)}\n${joinPem(other.certificatePem)}`;

  assert.throws(
    () => createTrustStore({ bundle, bundleSource: "bundle.pem" }),
    (error: unknown) => error instanceof PkiError && error.code === "ERR_PKI_BUNDLE" && /bundle\.pem line \d+ is blank/.test(error.message),
  );
});

test("bundle with a private key is rejected", () => {
  const bundle = joinPem(root.certificatePem, root.privateKeyPem);

  assert.throws(
    () => createTrustStore({ bundle }),
    (error: unknown) => error instanceof PkiError && error.code === "ERR_PKI_BUNDLE" && /"PRIVATE KEY" PEM block; remove the private key/.test(error.message),
  );
});

test("bundle with CRLF line endings is rejected", () => {
  assert.throws(
    () => createTrustStore({ bundle: joinPem(root.certificatePem).replaceAll("\n", "\r\n") }),
    (error: unknown) => error instanceof PkiError && error.code === "ERR_PKI_BUNDLE" && /carriage return/.test(error.message),
  );
});

test("DER CRL text is rejected", async () => {
  const { crl } = await createCrl(root, [], { number: 1 });

  assert.throws(
    () => createTrustStore({ bundle: joinPem(root.certificatePem), crls: [Buffer.from(crl.rawData).toString("latin1")], crlSources: ["root.crl"] }),
    (error: unknown) =>
      error instanceof AlbError &&
      error.code === "ERR_ALB_REVOCATION" &&
      error.message === 'root.crl is not valid revocation content: expected exactly one PEM block "-----BEGIN X509 CRL-----"; convert a DER CRL with "openssl crl -inform DER -outform PEM"',
  );
});

test("CRL from a CA outside the store is rejected", async () => {
  const { pem } = await createCrl(other, [], { number: 1 });

  assert.throws(
    () => createTrustStore({ bundle: joinPem(root.certificatePem), crls: [pem], crlSources: ["other.crl"] }),
    (error: unknown) =>
      error instanceof AlbError &&
      error.code === "ERR_ALB_REVOCATION" &&
      error.message === 'other.crl is not valid revocation content: its issuer "CN=other root" is not the subject of any CA in the trust store; upload CRLs only from the store\'s CAs',
  );
});

test("CRL with a forged signature is rejected", async () => {
  const impostor = await createRootCa({ commonName: "store root" });
  const { pem } = await createCrl(impostor, [], { number: 1 });

  assert.throws(
    () => createTrustStore({ bundle: joinPem(root.certificatePem), crls: [pem], crlSources: ["forged.crl"] }),
    (error: unknown) =>
      error instanceof AlbError &&
      error.code === "ERR_ALB_REVOCATION" &&
      error.message === 'forged.crl is not valid revocation content: its signature does not verify with the key of the trust-store CA "CN=store root"; re-create the CRL with that CA\'s key',
  );
});

test("revoked serials are matched with their issuer", async () => {
  const { pem } = await createCrl(root, [{ serialNumber: client.certificate.serialNumber, revokedAt: new Date() }], { number: 1 });
  const store = createTrustStore({ bundle: joinPem(root.certificatePem), crls: [pem] });
  const unrelated = await issueLeaf(other, { profile: "client", subject: { commonName: "x" }, serialNumber: client.certificate.serialNumber });

  assert.equal(store.isRevoked(parseCertificate(Buffer.from(client.certificatePem))), true);
  assert.equal(store.isRevoked(parseCertificate(Buffer.from(unrelated.certificatePem))), false);
  assert.equal(store.revocationLists[0]?.serialNumbers.size, 1);
});

test("missing bundle file names the path", (t) => {
  const folder = temporaryFolder(t);
  const path = join(folder, "absent.pem");

  assert.throws(
    () => loadTrustStore({ bundleFile: path }),
    (error: unknown) => error instanceof AlbError && error.code === "ERR_ALB_FILE" && error.message === `CA bundle "${path}" cannot be read (ENOENT); check the path in the configuration`,
  );
});

test("file edits apply only after reload", async (t) => {
  const folder = temporaryFolder(t);
  const bundleFile = join(folder, "bundle.pem");
  const crlFile = join(folder, "root.crl");
  writeFileSync(bundleFile, joinPem(root.certificatePem));
  writeFileSync(crlFile, (await createCrl(root, [], { number: 1 })).pem);
  const files = { bundleFile, crlFiles: [crlFile] };
  const running = await startListener(t, { pki, trustStore: loadTrustStore(files), trustStoreFiles: files });
  const connect = () => exchange(running.listener.port, pki, { certPem: client.certificatePem, keyPem: client.privateKeyPem });

  writeFileSync(crlFile, (await createCrl(root, [{ serialNumber: client.certificate.serialNumber, revokedAt: new Date() }], { number: 2 })).pem);
  const beforeReload = await connect();
  const reloaded = running.listener.reloadTrustStore();
  const afterReload = await connect();

  assert.match(beforeReload.response, /^HTTP\/1\.1 200 OK/);
  assert.equal(afterReload.response, "");
  assert.equal(reloaded.revocationLists[0]?.serialNumbers.has(client.certificate.serialNumber.toUpperCase()), true);
  await logLine(running.logDir, "connection.log", "Failed:ClientCertCrlHit");
});

test("reload without files or store is rejected", async (t) => {
  const running = await startListener(t, { pki, trustStore: createTrustStore({ bundle: joinPem(root.certificatePem) }) });

  assert.throws(
    () => running.listener.reloadTrustStore(),
    (error: unknown) =>
      error instanceof AlbError && error.code === "ERR_ALB_LISTENER" && error.message === "reloadTrustStore() needs a TrustStore because the listener was started without trustStoreFiles",
  );
});

test("store lists its certificates", () => {
  const store = createTrustStore({ bundle: joinPem(root.certificatePem, other.certificatePem) });

  assert.deepEqual(store.certificates.map((certificate) => certificate.subject), ["CN=store root", "CN=other root"]);
  assert.equal(Object.isFrozen(store), true);
});
