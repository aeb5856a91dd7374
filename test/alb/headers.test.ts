/** Header formats: RFC 2253 names against openssl, serials, validity, PEM encoding and forwarding headers. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { applyForwardingHeaders, encodePem, escapeAttributeValue, formatSerialNumber, formatValidity, parseCertificate, createTraceId } from "../../src/alb/index.ts";
import { createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { runFile, temporaryFolder, writeClientFiles } from "./fixtures.ts";

let root: IssuedCertificate;

before(async () => {
  root = await createRootCa({ commonName: "header root" });
});

const subjects = [
  { commonName: "plain" },
  { commonName: "comma, inc", organization: "A+B", organizationalUnit: 'quote "q"' },
  { commonName: " leading and trailing ", organization: "x=y" },
  { commonName: "semi;colon<less>greater\\back", country: "JP", state: "Tōkyō" },
  { commonName: "Ünïcödé", locality: "Zürich" },
];

for (const [index, subject] of subjects.entries()) {
  test(`subject ${index + 1} matches openssl RFC 2253`, async (t) => {
    const leaf = await issueLeaf(root, { profile: "client", subject });
    const files = writeClientFiles(temporaryFolder(t), "leaf", leaf);

    const { stdout } = await runFile("openssl", ["x509", "-in", files.cert, "-noout", "-subject", "-nameopt", "RFC2253"], { encoding: "utf8" });

    assert.equal(`subject=${parseCertificate(Buffer.from(leaf.certificatePem)).subject}`, stdout.trim());
  });
}

test("escapeAttributeValue escapes RFC 2253 specials", () => {
  assert.equal(escapeAttributeValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
  assert.equal(escapeAttributeValue(" #x "), "\\ #x\\ ");
  assert.equal(escapeAttributeValue("#x"), "\\#x");
  assert.equal(escapeAttributeValue("é"), "\\C3\\A9");
});

test("serial numbers are even-length uppercase hex", () => {
  assert.equal(formatSerialNumber("f"), "0F");
  assert.equal(formatSerialNumber("03a5b1"), "03A5B1");
});

test("validity uses whole seconds and Z", () => {
  const value = formatValidity({ notBefore: new Date("2023-09-21T01:50:17.000Z"), notAfter: new Date("2024-09-20T01:50:17.999Z") });

  assert.equal(value, "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z");
});

test("PEM encoding leaves + / = unencoded", () => {
  const pem = "-----BEGIN CERTIFICATE-----\nab+/cd==\n-----END CERTIFICATE-----\n";

  assert.equal(encodePem(pem), "-----BEGIN%20CERTIFICATE-----%0Aab+/cd==%0A-----END%20CERTIFICATE-----%0A");
  assert.equal(encodePem(pem, true), "-----BEGIN%20CERTIFICATE-----%0Aab+/cd%3D%3D%0A-----END%20CERTIFICATE-----%0A");
  assert.equal(decodeURIComponent(encodePem(pem)), pem);
});

const forwarding = { clientAddress: "203.0.113.9", clientPort: 51000, listenerPort: 9443, xffClientPort: false } as const;

test("X-Forwarded-For append adds the client", () => {
  const result = applyForwardingHeaders([["X-Forwarded-For", "198.51.100.1"]], { ...forwarding, xffMode: "append" });

  assert.deepEqual(result.headers.find(([name]) => name === "X-Forwarded-For"), ["X-Forwarded-For", "198.51.100.1, 203.0.113.9"]);
  assert.equal(result.forwardedAddresses, 2);
});

test("X-Forwarded-For append with the port", () => {
  const v4 = applyForwardingHeaders([], { ...forwarding, xffMode: "append", xffClientPort: true });
  const v6 = applyForwardingHeaders([], { ...forwarding, clientAddress: "2001:db8::1", xffMode: "append", xffClientPort: true });

  assert.deepEqual(v4.headers[0], ["X-Forwarded-For", "203.0.113.9:51000"]);
  assert.deepEqual(v6.headers[0], ["X-Forwarded-For", "[2001:db8::1]:51000"]);
});

test("X-Forwarded-For preserve and remove", () => {
  const preserved = applyForwardingHeaders([["x-forwarded-for", "198.51.100.1"]], { ...forwarding, xffMode: "preserve" });
  const absent = applyForwardingHeaders([], { ...forwarding, xffMode: "preserve" });
  const removed = applyForwardingHeaders([["x-forwarded-for", "198.51.100.1"]], { ...forwarding, xffMode: "remove" });

  assert.deepEqual(preserved.headers[0], ["X-Forwarded-For", "198.51.100.1"]);
  assert.equal(absent.headers.some(([name]) => name === "X-Forwarded-For"), false);
  assert.equal(removed.headers.some(([name]) => name.toLowerCase() === "x-forwarded-for"), false);
});

test("proto and port are overwritten", () => {
  const result = applyForwardingHeaders([["X-Forwarded-Proto", "http"], ["X-Forwarded-Port", "80"]], { ...forwarding, xffMode: "append" });

  assert.deepEqual(result.headers.filter(([name]) => name.startsWith("X-Forwarded-P")), [["X-Forwarded-Proto", "https"], ["X-Forwarded-Port", "9443"]]);
});

test("trace id keeps a client Root", () => {
  const client = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
  const kept = applyForwardingHeaders([["X-Amzn-Trace-Id", client]], { ...forwarding, xffMode: "append" });
  const replaced = applyForwardingHeaders([["X-Amzn-Trace-Id", "garbage"]], { ...forwarding, xffMode: "append" });

  assert.equal(kept.traceId, client);
  assert.match(replaced.traceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
});

test("trace id encodes epoch seconds", () => {
  assert.match(createTraceId(new Date("2016-06-09T22:11:20Z")), /^Root=1-5759e988-[0-9a-f]{24}$/);
});
