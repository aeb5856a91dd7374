/**
 * Every Failed:<code> the listener produces, on real TLS 1.3 and 1.2 connections with certificates made here:
 * each rejected client gets no HTTP response, the target receives no request, and the connection log has the code.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { before, describe, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { createTrustStore, type TrustStore } from "../../src/alb/index.ts";
import { createCrl, createRootCa, exportPrivateKeyPem, issueIntermediateCa, issueLeaf, randomSerialNumber, type IssuedCertificate } from "../../src/pki/index.ts";
import { createServerPki, exchange, joinPem, logLine, startListener, trustStoreOf, type ServerPki } from "./fixtures.ts";

type KeyGenParams = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;
type SigningAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

const DAY_MS = 86_400_000;
const CLIENT = { commonName: "client.example" };

interface ClientCase {
  name: string;
  reason: string;
  certPem: () => string;
  keyPem: () => string;
  local?: Record<string, unknown>;
  trustStore?: () => TrustStore;
}

let pki: ServerPki;
let root: IssuedCertificate;
let intermediate: IssuedCertificate;
let store: TrustStore;
const certificates: Record<string, IssuedCertificate> = {};
let deepChain: string;
let sha1Leaf: { certPem: string; keyPem: string };
let rsa1024Leaf: { certPem: string; keyPem: string };
let revokedStore: TrustStore;
let staleCrlStore: TrustStore;

/** Issues a leaf with a key or signature our PKI refuses to make, straight from @peculiar/x509. */
async function oddLeaf(issuer: IssuedCertificate, keyAlgorithm: KeyGenParams, signingAlgorithm: SigningAlgorithm): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(keyAlgorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: "CN=odd.example",
    issuer: issuer.certificate.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    signingAlgorithm,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.2"])],
  });
  return { certPem: certificate.toString("pem"), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

before(async () => {
  pki = await createServerPki();
  root = await createRootCa({ commonName: "edgelock test client root" });
  intermediate = await issueIntermediateCa(root, { commonName: "edgelock test client intermediate" });
  store = trustStoreOf(root);
  const otherRoot = await createRootCa({ commonName: "someone else's root" });

  certificates.good = await issueLeaf(root, { profile: "client", subject: CLIENT });
  certificates.expired = await issueLeaf(root, { profile: "client", subject: CLIENT, notBefore: new Date(Date.now() - 400 * DAY_MS), validityDays: 365 });
  certificates.notYetValid = await issueLeaf(root, { profile: "client", subject: CLIENT, notBefore: new Date(Date.now() + DAY_MS) });
  certificates.wrongCa = await issueLeaf(otherRoot, { profile: "client", subject: CLIENT });
  certificates.revoked = await issueLeaf(root, { profile: "client", subject: CLIENT });
  certificates.serverAuthOnly = await issueLeaf(root, { profile: "client", subject: CLIENT, extendedKeyUsages: ["1.3.6.1.5.5.7.3.1"] });

  const second = await issueIntermediateCa(intermediate, { commonName: "edgelock test second intermediate" });
  const third = await issueIntermediateCa(second, { commonName: "edgelock test third intermediate" });
  certificates.deep = await issueLeaf(third, { profile: "client", subject: CLIENT });
  deepChain = joinPem(certificates.deep.certificatePem, third.certificatePem, second.certificatePem, intermediate.certificatePem);

  sha1Leaf = await oddLeaf(root, { name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-1" } as webcrypto.EcdsaParams);
  rsa1024Leaf = await oddLeaf(
    root,
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    { name: "ECDSA", hash: "SHA-256" } as webcrypto.EcdsaParams,
  );

  const crl = await createCrl(root, [{ serialNumber: certificates.revoked.certificate.serialNumber, revokedAt: new Date() }], { number: 1 });
  revokedStore = createTrustStore({ bundle: joinPem(root.certificatePem), crls: [crl.pem] });
  const stale = await createCrl(root, [], { number: 2, thisUpdate: new Date(Date.now() - 10 * DAY_MS), nextUpdate: new Date(Date.now() - DAY_MS) });
  staleCrlStore = createTrustStore({ bundle: joinPem(root.certificatePem), crls: [stale.pem] });
});

const pemOf = (name: string) => () => (certificates[name] as IssuedCertificate).certificatePem;
const keyOf = (name: string) => () => (certificates[name] as IssuedCertificate).privateKeyPem;

const cases: ClientCase[] = [
  { name: "expired leaf", reason: "ClientCertExpired", certPem: pemOf("expired"), keyPem: keyOf("expired") },
  { name: "leaf not yet valid", reason: "ClientCertNotYetValid", certPem: pemOf("notYetValid"), keyPem: keyOf("notYetValid") },
  { name: "leaf from another CA", reason: "ClientCertUntrusted", certPem: pemOf("wrongCa"), keyPem: keyOf("wrongCa") },
  { name: "revoked leaf", reason: "ClientCertCrlHit", certPem: pemOf("revoked"), keyPem: keyOf("revoked"), trustStore: () => revokedStore },
  { name: "CRL past nextUpdate", reason: "ClientCertCrlProcessingError", certPem: pemOf("good"), keyPem: keyOf("good"), trustStore: () => staleCrlStore, local: { checkCrlNextUpdate: true } },
  { name: "serverAuth-only leaf", reason: "ClientCertPurposeInvalid", certPem: pemOf("serverAuthOnly"), keyPem: keyOf("serverAuthOnly") },
  { name: "CA certificate as client", reason: "ClientCertPurposeInvalid", certPem: () => intermediate.certificatePem, keyPem: () => intermediate.privateKeyPem },
  { name: "RSA-1024 leaf", reason: "ClientCertTypeUnsupported", certPem: () => rsa1024Leaf.certPem, keyPem: () => rsa1024Leaf.keyPem },
  { name: "SHA-1 signed leaf", reason: "ClientCertIncompatible", certPem: () => sha1Leaf.certPem, keyPem: () => sha1Leaf.keyPem },
  { name: "chain of five", reason: "ClientCertMaxChainDepthExceeded", certPem: () => deepChain, keyPem: keyOf("deep") },
];

for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
  describe(`verify failures over ${maxVersion}`, () => {
    for (const testCase of cases) {
      test(`${testCase.name} gets Failed:${testCase.reason}`, async (t) => {
        const running = await startListener(t, { pki, trustStore: testCase.trustStore?.() ?? store, local: testCase.local });

        const seen = await exchange(running.listener.port, pki, { certPem: testCase.certPem(), keyPem: testCase.keyPem(), maxVersion, ciphers: "DEFAULT:@SECLEVEL=0" });

        assert.equal(seen.response, "", "no HTTP response bytes");
        assert.equal(seen.error, "ECONNRESET");
        assert.equal(running.invocations(), 0, "the target saw no request");
        const line = await logLine(running.logDir, "connection.log", `Failed:${testCase.reason}`);
        assert.match(line, new RegExp(` ${maxVersion} `));
        const rejection = running.records.find((record) => String(record.msg).startsWith("client certificate rejected"));
        assert.equal(rejection?.reason, testCase.reason);
      });
    }

    test("no certificate gets Failed:ClientCertRejected", async (t) => {
      const running = await startListener(t, { pki, trustStore: store });

      const seen = await exchange(running.listener.port, pki, { maxVersion });

      assert.equal(seen.response, "");
      assert.equal(seen.error, "ECONNRESET");
      assert.equal(running.invocations(), 0);
      const line = await logLine(running.logDir, "connection.log", "Failed:ClientCertRejected");
      assert.match(line, / - - - Failed:ClientCertRejected TID_[0-9a-f]{32} /);
    });
  });
}

test("no certificate logs the configured reason", async (t) => {
  const running = await startListener(t, { pki, trustStore: store, local: { noCertificateReason: "UnmappedConnectionError" } });

  const seen = await exchange(running.listener.port, pki);

  assert.equal(seen.response, "");
  await logLine(running.logDir, "connection.log", "Failed:UnmappedConnectionError");
});

test("alert setting closes without a reset", async (t) => {
  const running = await startListener(t, { pki, trustStore: store, local: { verifyFailure: "alert" } });

  const seen = await exchange(running.listener.port, pki, { certPem: certificates.wrongCa?.certificatePem, keyPem: certificates.wrongCa?.privateKeyPem });

  assert.equal(seen.response, "");
  assert.equal(seen.error, undefined, "closed with close_notify, no reset");
  assert.equal(running.invocations(), 0);
  await logLine(running.logDir, "connection.log", "Failed:ClientCertUntrusted");
});

test("ignoreClientCertificateExpiry accepts an expired leaf", async (t) => {
  const running = await startListener(t, { pki, trustStore: store, alb: { mutualAuthentication: { mode: "verify", ignoreClientCertificateExpiry: true } } });

  const seen = await exchange(running.listener.port, pki, { certPem: certificates.expired?.certificatePem, keyPem: certificates.expired?.privateKeyPem });

  assert.match(seen.response, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(running.invocations(), 1);
  await logLine(running.logDir, "connection.log", " Success ");
});

test("missing intermediate is filled from the store", async (t) => {
  const viaIntermediate = await issueLeaf(intermediate, { profile: "client", subject: CLIENT });
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root, intermediate) });

  const seen = await exchange(running.listener.port, pki, { certPem: viaIntermediate.certificatePem, keyPem: viaIntermediate.privateKeyPem });

  assert.match(seen.response, /^HTTP\/1\.1 200 OK\r\n/);
});

test("intermediate sent by the client completes the chain", async (t) => {
  const viaIntermediate = await issueLeaf(intermediate, { profile: "client", subject: CLIENT });
  const running = await startListener(t, { pki, trustStore: store });

  const seen = await exchange(running.listener.port, pki, { certPem: joinPem(viaIntermediate.certificatePem, intermediate.certificatePem), keyPem: viaIntermediate.privateKeyPem });

  assert.match(seen.response, /^HTTP\/1\.1 200 OK\r\n/);
});

test("intermediate anchor is refused when a self-signed root is required", async (t) => {
  const viaIntermediate = await issueLeaf(intermediate, { profile: "client", subject: CLIENT });
  const running = await startListener(t, { pki, trustStore: trustStoreOf(intermediate), local: { requireSelfSignedAnchor: true } });

  const seen = await exchange(running.listener.port, pki, { certPem: viaIntermediate.certificatePem, keyPem: viaIntermediate.privateKeyPem });

  assert.equal(seen.response, "");
  await logLine(running.logDir, "connection.log", "Failed:ClientCertUntrusted");
});
