/**
 * The listener as curl and openssl see it: no HTTP response without a certificate, the echo JSON with the five
 * mTLS headers with one, HTTP/2 by ALPN, spoofed headers stripped, passthrough mode, and no session resumption.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { writeFileSync } from "node:fs";
import { createRootCa, issueIntermediateCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { createServerPki, curl, logLine, runFile, startListener, temporaryFolder, trustStoreOf, writeClientFiles, HOST, type ServerPki } from "./fixtures.ts";

let pki: ServerPki;
let root: IssuedCertificate;
let client: IssuedCertificate;

before(async () => {
  pki = await createServerPki();
  root = await createRootCa({ commonName: "edgelock curl root", organization: "Example, Inc", country: "JP" });
  client = await issueLeaf(root, { profile: "client", subject: { commonName: "curl client", organization: "Example", organizationalUnit: "QA+Ops", country: "JP" } });
});

function serverCaFile(folder: string): string {
  const path = join(folder, "server-ca.pem");
  writeFileSync(path, pki.serverCa.certificatePem);
  return path;
}

test("curl without a certificate gets no HTTP response", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });
  const folder = temporaryFolder(t);

  const tls13 = await curl(running.listener.port, serverCaFile(folder), ["--tlsv1.3"]);
  const tls12 = await curl(running.listener.port, serverCaFile(folder), ["--tls-max", "1.2"]);

  assert.equal(tls13.code, 56);
  assert.match(tls13.stderr, /Connection reset by peer/);
  assert.equal(tls13.stdout, "");
  assert.equal(tls12.code, 35);
  assert.equal(tls12.stdout, "");
  assert.equal(running.invocations(), 0);
});

for (const protocol of ["--http1.1", "--http2"]) {
  test(`curl ${protocol} with a certificate gets the echo`, async (t) => {
    const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });
    const folder = temporaryFolder(t);
    const files = writeClientFiles(folder, "client", client);

    const result = await curl(running.listener.port, serverCaFile(folder), [protocol, "--cert", files.cert, "--key", files.key, "-D", join(folder, "head.txt")], "/items?q=a%20b&q=c");

    assert.equal(result.code, 0, result.stderr);
    const head = readFileSync(join(folder, "head.txt"), "utf8");
    assert.match(head, protocol === "--http2" ? /^HTTP\/2 200/ : /^HTTP\/1\.1 200 OK/);
    const body = JSON.parse(result.stdout);
    assert.equal(body.message, "Hello from Lambda!");
    assert.equal(body.event.requestContext.elb.targetGroupArn, "[HIDDEN]");
    assert.deepEqual(body.event.queryStringParameters, { q: "c" });
    assert.equal(body.event.path, "/items");

    const headers = body.event.headers;
    const { stdout: serialLine } = await runFile("openssl", ["x509", "-in", files.cert, "-noout", "-serial"], { encoding: "utf8" });
    assert.equal(headers["x-amzn-mtls-clientcert-serial-number"], serialLine.trim().replace(/^serial=/, ""));
    const { stdout: subjectLine } = await runFile("openssl", ["x509", "-in", files.cert, "-noout", "-subject", "-issuer", "-nameopt", "RFC2253"], { encoding: "utf8" });
    const [subject, issuer] = subjectLine.trim().split("\n");
    assert.equal(`subject=${headers["x-amzn-mtls-clientcert-subject"]}`, subject);
    assert.equal(`issuer=${headers["x-amzn-mtls-clientcert-issuer"]}`, issuer);
    assert.match(headers["x-amzn-mtls-clientcert-validity"], /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(decodeURIComponent(headers["x-amzn-mtls-clientcert-leaf"]), readFileSync(files.cert, "utf8"));
    assert.doesNotMatch(headers["x-amzn-mtls-clientcert-leaf"], /%2B|%2F|%3D/);
    assert.equal(headers["x-forwarded-proto"], "https");
    assert.equal(headers["x-forwarded-port"], String(running.listener.port));
    assert.equal(headers["x-forwarded-for"], "127.0.0.1");
    assert.match(headers["x-amzn-trace-id"], /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(headers.host, `${HOST}:${running.listener.port}`);

    const connectionLine = await logLine(running.logDir, "connection.log", " Success ");
    assert.ok(connectionLine.includes(`"${headers["x-amzn-mtls-clientcert-subject"]}"`));
    const accessLine = await logLine(running.logDir, "access.log", "/items?q=a%20b&q=c");
    assert.match(accessLine, protocol === "--http2" ? /^h2 / : /^https /);
    assert.match(accessLine, / 200 200 /);
  });
}

test("spoofed mTLS headers are replaced", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });
  const folder = temporaryFolder(t);
  const files = writeClientFiles(folder, "client", client);

  const result = await curl(running.listener.port, serverCaFile(folder), [
    "--cert", files.cert, "--key", files.key,
    "-H", "X-Amzn-Mtls-Clientcert-Subject: CN=admin",
    "-H", "X-Amzn-Mtls-Clientcert: forged",
    "-H", "x-amzn-mtls-clientcert-serial-number: 01",
    "-H", "X-Forwarded-Proto: http",
  ]);

  const headers = JSON.parse(result.stdout).event.headers;
  assert.equal(headers["x-amzn-mtls-clientcert-subject"], "CN=curl client,OU=QA\\+Ops,O=Example,C=JP");
  assert.equal(headers["x-amzn-mtls-clientcert"], undefined);
  assert.notEqual(headers["x-amzn-mtls-clientcert-serial-number"], "01");
  assert.equal(headers["x-forwarded-proto"], "https");
});

test("spoofed headers pass when configured to", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), local: { passClientSuppliedMtlsHeaders: true } });
  const folder = temporaryFolder(t);
  const files = writeClientFiles(folder, "client", client);

  const result = await curl(running.listener.port, serverCaFile(folder), ["--cert", files.cert, "--key", files.key, "-H", "X-Amzn-Mtls-Clientcert: forged"]);

  assert.equal(JSON.parse(result.stdout).event.headers["x-amzn-mtls-clientcert"], "forged");
});

test("renamed headers carry the certificate", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { headerNames: { subject: "X-Client-Subject" } } });
  const folder = temporaryFolder(t);
  const files = writeClientFiles(folder, "client", client);

  const result = await curl(running.listener.port, serverCaFile(folder), ["--cert", files.cert, "--key", files.key, "-H", "X-Client-Subject: CN=admin"]);

  const headers = JSON.parse(result.stdout).event.headers;
  assert.equal(headers["x-client-subject"], "CN=curl client,OU=QA\\+Ops,O=Example,C=JP");
  assert.equal(headers["x-amzn-mtls-clientcert-subject"], undefined);
});

test("passthrough forwards the whole chain", async (t) => {
  const intermediate = await issueIntermediateCa(root, { commonName: "passthrough intermediate" });
  const leaf = await issueLeaf(intermediate, { profile: "client", subject: { commonName: "passthrough client" } });
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { mutualAuthentication: { mode: "passthrough" } } });
  const folder = temporaryFolder(t);
  const files = writeClientFiles(folder, "chain", leaf, [intermediate.certificatePem]);

  const withChain = await curl(running.listener.port, serverCaFile(folder), ["--cert", files.cert, "--key", files.key]);
  const without = await curl(running.listener.port, serverCaFile(folder), []);

  const headers = JSON.parse(withChain.stdout).event.headers;
  assert.equal(decodeURIComponent(headers["x-amzn-mtls-clientcert"]), readFileSync(files.cert, "utf8"));
  assert.equal(headers["x-amzn-mtls-clientcert-subject"], undefined);
  assert.equal(without.code, 0);
  assert.equal(JSON.parse(without.stdout).event.headers["x-amzn-mtls-clientcert"], undefined);
});

test("mode off requests no certificate", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { mutualAuthentication: { mode: "off" } } });
  const folder = temporaryFolder(t);

  const { stdout } = await runFile("sh", ["-c", `openssl s_client -connect 127.0.0.1:${running.listener.port} -servername ${HOST} -CAfile ${serverCaFile(folder)} </dev/null 2>&1`], { encoding: "utf8" });
  const result = await curl(running.listener.port, serverCaFile(folder), []);

  assert.match(stdout, /No client certificate CA names sent/);
  assert.doesNotMatch(stdout, /Requested Signature Algorithms|Acceptable client certificate CA names/);
  assert.equal(JSON.parse(result.stdout).message, "Hello from Lambda!");
});

test("advertised CA names reach the client", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { mutualAuthentication: { mode: "verify", advertiseTrustStoreCaNames: "on" } } });
  const folder = temporaryFolder(t);

  const { stdout } = await runFile("sh", ["-c", `openssl s_client -connect 127.0.0.1:${running.listener.port} -servername ${HOST} -CAfile ${serverCaFile(folder)} </dev/null 2>&1`], { encoding: "utf8" });

  assert.match(stdout, /Acceptable client certificate CA names\n.*CN = edgelock curl root/);
});

test("mTLS sessions are never resumed", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });
  const folder = temporaryFolder(t);
  const files = writeClientFiles(folder, "client", client);
  const session = join(folder, "session.pem");
  const base = `openssl s_client -connect 127.0.0.1:${running.listener.port} -servername ${HOST} -CAfile ${serverCaFile(folder)} -cert ${files.cert} -key ${files.key} -tls1_2`;

  await runFile("sh", ["-c", `${base} -sess_out ${session} </dev/null 2>&1`], { encoding: "utf8" });
  const { stdout } = await runFile("sh", ["-c", `${base} -sess_in ${session} </dev/null 2>&1`], { encoding: "utf8" });

  assert.match(stdout, /^New, /m);
  assert.doesNotMatch(stdout, /^Reused, /m);
});
