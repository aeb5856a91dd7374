import "reflect-metadata";
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { createRootCa, type IssuedCertificate } from "../../src/pki/certificates.ts";
import { formatBundle, MAX_BUNDLE_CERTIFICATES, validateBundle } from "../../src/pki/bundle.ts";
import { PkiError } from "../../src/pki/errors.ts";
import { opensslSelfSigned, temporaryFolder } from "./fixtures.ts";

let ecdsaCa: IssuedCertificate;
let rsaCa: IssuedCertificate;

before(async () => {
  ecdsaCa = await createRootCa({ commonName: "bundle test CA", organization: "edgelock" });
  rsaCa = await createRootCa({ commonName: "bundle test RSA CA" }, { keyType: "rsa-2048" });
});

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => validateBundle(text, { source: "bundle.pem" }),
    (error: unknown) => {
      assert.ok(error instanceof PkiError);
      assert.equal(error.code, "ERR_PKI_BUNDLE");
      assert.match(error.message, pattern);
      return true;
    },
  );
}

function pemOf(issued: IssuedCertificate): string {
  return issued.certificatePem.replaceAll("\r\n", "\n").trimEnd();
}

test("bundle with two CAs and comments is accepted", () => {
  const text = `# current CA\n${pemOf(ecdsaCa)}\n# next CA for rotation\n${pemOf(rsaCa)}\n`;
  const { certificates, pems } = validateBundle(text);
  assert.equal(certificates.length, 2);
  assert.equal(certificates[0]?.subject, ecdsaCa.certificate.subject);
  assert.equal(certificates[1]?.subject, rsaCa.certificate.subject);
  assert.equal(pems.length, 2);
  assert.ok(pems[0]?.startsWith("-----BEGIN CERTIFICATE-----"));
});

test("bundle without final newline is accepted", () => {
  assert.equal(validateBundle(pemOf(ecdsaCa)).certificates.length, 1);
});

test("bundle with CRLF line endings is rejected", () => {
  rejects(`${pemOf(ecdsaCa)}\n`.replaceAll("\n", "\r\n"), /^bundle\.pem line 1 ends with a carriage return \(Windows CRLF line ending\); convert the file/);
});

test("bundle with blank lines is rejected", () => {
  rejects(`${pemOf(ecdsaCa)}\n\n${pemOf(rsaCa)}\n`, /^bundle\.pem line \d+ is blank; an ALB trust store rejects blank lines, so remove it$/);
  rejects(`${pemOf(ecdsaCa)}\n\n`, /line \d+ is blank/);
  rejects(`\n${pemOf(ecdsaCa)}\n`, /^bundle\.pem line 1 is blank/);
});

test("comment containing a dash is rejected", () => {
  rejects(`# root CA - 2026\n${pemOf(ecdsaCa)}\n`, /^bundle\.pem line 1 is a comment containing "-", which an ALB trust store rejects; remove the "-" characters or the comment$/);
});

test("comment inside a certificate is rejected", () => {
  const [first, ...rest] = pemOf(ecdsaCa).split("\n");
  rejects([first, "# inside", ...rest].join("\n"), /^bundle\.pem line 2 is a comment inside the certificate that starts on line 1; move comments between certificates$/);
});

test("text dump before a certificate is rejected", () => {
  const dump = "Certificate:\n    Data:\n        Version: 3 (0x2)";
  rejects(`${dump}\n${pemOf(ecdsaCa)}\n`, /^bundle\.pem line 1 is neither part of a PEM certificate nor a "#" comment \(got "Certificate:"\); remove text such as "openssl x509 -text" output/);
});

test("indented comment is rejected", () => {
  rejects(`  # indented\n${pemOf(ecdsaCa)}\n`, /^bundle\.pem line 1 is neither part of a PEM certificate nor a "#" comment/);
});

test("private key block is rejected", () => {
  rejects(`${pemOf(ecdsaCa)}\n${ecdsaCa.privateKeyPem.trimEnd()}\n`, /starts a "PRIVATE KEY" PEM block; remove the private key, because a trust store takes only CA certificates/);
});

test("CRL block is rejected", () => {
  rejects("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", /^bundle\.pem line 1 starts a "X509 CRL" PEM block; keep only "CERTIFICATE" blocks and upload CRLs as trust store revocations$/);
});

test("certificate without END line is rejected", () => {
  const lines = pemOf(ecdsaCa).split("\n");
  rejects(lines.slice(0, -1).join("\n"), /^bundle\.pem: the certificate that starts on line 1 has no "-----END CERTIFICATE-----" line$/);
});

test("bad base64 inside a certificate is rejected", () => {
  const lines = pemOf(ecdsaCa).split("\n");
  lines.splice(2, 0, "not base64!");
  rejects(lines.join("\n"), /^bundle\.pem line 3 inside the certificate that starts on line 1 is not base64 \(got "not base64!"\)$/);
});

test("empty bundle is rejected", () => {
  rejects("", /^bundle\.pem contains no certificate; add at least one "-----BEGIN CERTIFICATE-----" block$/);
  rejects("# only a comment\n", /contains no certificate/);
});

test("bundle of 25 CAs passes and 26 fails", () => {
  const many = Array.from({ length: MAX_BUNDLE_CERTIFICATES }, () => pemOf(ecdsaCa)).join("\n");
  assert.equal(validateBundle(many).certificates.length, 25);
  rejects(`${many}\n${pemOf(rsaCa)}`, /^bundle\.pem contains 26 certificates, but an ALB trust store takes at most 25; remove CAs/);
});

test("certificate over 16 KB is rejected", async () => {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const large = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=large CA",
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.Extension("1.3.6.1.4.1.55555.1", false, new Uint8Array(13_000))],
  });
  rejects(large.toString("pem").replaceAll("\r\n", "\n"), /^bundle\.pem: certificate 1 \(line 1\) is \d{5} bytes as PEM, over the ALB limit of 16384 bytes \(16 KB\) per CA certificate$/);
});

test("unsupported key types are rejected", (t) => {
  const folder = temporaryFolder(t);
  const cases: [string, string[], RegExp][] = [
    ["ed25519", ["ed25519"], /subject "CN=ed25519" has an Ed25519 key, which an ALB trust store rejects; accepted keys: RSA 2048 to 8192 bits, ECDSA P-256, P-384 or P-521$/],
    ["rsa1024", ["rsa:1024"], /subject "CN=rsa1024" has an RSA 1024-bit key, which an ALB trust store rejects/],
    ["secp256k1", ["ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], /subject "CN=secp256k1" has an ECDSA key on curve secp256k1, which an ALB trust store rejects/],
  ];
  for (const [name, keyArgs, pattern] of cases) {
    const pem = opensslSelfSigned(folder, name, keyArgs);
    rejects(`${pemOf(ecdsaCa)}\n${pem}`, pattern);
  }
});

test("SHA-1 signature is rejected", (t) => {
  const pem = opensslSelfSigned(temporaryFolder(t), "sha1", ["rsa:2048"], ["-sha1"]);
  rejects(pem, /^bundle\.pem: certificate 1 \(line 1\), subject "CN=sha1" is signed with RSASSA-PKCS1-v1_5 with SHA-1, which an ALB trust store rejects; accepted signatures: SHA-256, SHA-384 or SHA-512/);
});

test("RSASSA-PSS with SHA-384 is accepted", (t) => {
  const pem = opensslSelfSigned(temporaryFolder(t), "pss", ["rsa:2048"], ["-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:48"]);
  assert.equal(validateBundle(pem).certificates.length, 1);
});

test("formatBundle output passes validation", () => {
  const crlf = ecdsaCa.certificatePem.replaceAll(/\r?\n/g, "\r\n");
  const withText = `Certificate:\n    Subject: CN=bundle test RSA CA\n${rsaCa.certificatePem}`;
  const text = formatBundle([crlf, withText, ecdsaCa.certificatePem]);
  assert.doesNotMatch(text, /\r/);
  assert.ok(text.endsWith("-----END CERTIFICATE-----\n"));
  const { certificates } = validateBundle(text);
  assert.deepEqual(
    certificates.map((certificate) => certificate.subject),
    [ecdsaCa.certificate.subject, rsaCa.certificate.subject],
  );
});

test("formatBundle rejects input without certificate", () => {
  assert.throws(() => formatBundle([ecdsaCa.certificatePem, "hello"]), (error: unknown) => {
    assert.ok(error instanceof PkiError);
    assert.equal(error.code, "ERR_PKI_BUNDLE");
    assert.equal(error.message, 'input 2 of the bundle contains no "-----BEGIN CERTIFICATE-----" block');
    return true;
  });
});
