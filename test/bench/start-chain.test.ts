/**
 * Smoke test of the bench chain. bench/start-chain.ts, started as run.sh starts it with certificates from our PKI in
 * the anchor's file layout, must serve /static and /echo through the whole chain.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test, type TestContext } from "node:test";
import { connect } from "node:tls";
import { createRootCa, issueLeaf } from "../../src/pki/index.ts";

const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

/** Writes ca.crt, edge.*, origin.* and client.* as gen-certs.sh does; returns the client certificate's serial. */
async function writeAnchorCertificates(dir: string): Promise<string> {
  const ca = await createRootCa({ commonName: "bench smoke test CA", organization: "edgelock tests" });
  const names = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] };
  const origin = await issueLeaf(ca, { profile: "server", subject: { commonName: "anchor-origin" }, ...names });
  const edge = await issueLeaf(ca, { profile: "server", subject: { commonName: "anchor-edge" }, ...names });
  const client = await issueLeaf(ca, { profile: "client", subject: { commonName: "anchor-edge-client" } });
  writeFileSync(join(dir, "ca.crt"), ca.certificatePem);
  for (const [name, issued] of Object.entries({ origin, edge, client })) {
    writeFileSync(join(dir, `${name}.crt`), issued.certificatePem);
    writeFileSync(join(dir, `${name}.key`), issued.privateKeyPem, { mode: 0o600 });
  }
  writeFileSync(join(dir, "KEYTYPE"), "ecdsa-p256\n");
  return client.certificate.serialNumber.toUpperCase();
}

/** Starts a JSON echo backend like the anchor's, which returns {method, url, headers}. */
async function startBackend(t: TestContext): Promise<string> {
  const server = createServer((incoming, response) => {
    const body = JSON.stringify({ method: incoming.method, url: incoming.url, headers: incoming.headers });
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((done) => server.close(() => done()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface StartedChain {
  edge: string;
  listener: string;
  stop: () => Promise<number | null>;
}

async function startChain(t: TestContext, env: Record<string, string>): Promise<StartedChain> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/start-chain.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, EDGE_PORT: "0", ORIGIN_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  t.after(stop);

  const ready = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    void exited.then((code) => reject(new Error(`start-chain exited with code ${code} before it was ready: ${stderr}`)));
  });
  const match = /^chain ready: edge=(\S+) listener=(\S+) processes=2 /.exec(ready);
  assert.ok(match, `unexpected ready line: ${ready}`);
  return { edge: match[1] as string, listener: match[2] as string, stop };
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response: IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    }).on("error", reject).end();
  });
}

test("start-chain answers /static and /echo through the chain", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-bench-smoke-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clientSerial = await writeAnchorCertificates(dir);
  const backend = await startBackend(t);
  const chain = await startChain(t, { ANCHOR_CERT_DIR: dir, ANCHOR_KEY_TYPE: "ecdsa-p256", ANCHOR_BACKEND_URL: backend });
  const ca = readFileSync(join(dir, "ca.crt"), "utf8");

  const echoed = await get(`${chain.edge}/echo`, ca);
  assert.equal(echoed.status, 200);
  const headers = (JSON.parse(echoed.body) as { headers: Record<string, string> }).headers;
  assert.equal(headers["x-amzn-mtls-clientcert-serial-number"], clientSerial);
  assert.equal(headers["x-amzn-mtls-clientcert-subject"], "CN=anchor-edge-client");
  assert.equal(headers["cf-connecting-ip"], "127.0.0.1");

  const fixed = await get(`${chain.edge}/static`, ca);
  assert.equal(fixed.status, 200);
  assert.deepEqual(JSON.parse(fixed.body), { ok: true, from: "origin", mtls: { verify: "SUCCESS" } });

  // The listener resets a client without a certificate, as run.sh's sanity check expects.
  const listenerPort = Number(new URL(chain.listener).port);
  const rejection = await new Promise<NodeJS.ErrnoException>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: listenerPort, servername: "localhost", ca }, () => socket.write("GET /static HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    socket.on("data", () => resolve(Object.assign(new Error("the listener answered a client without a certificate"), { code: "ANSWERED" })));
    socket.on("error", resolve);
  });
  assert.equal(rejection.code, "ECONNRESET");

  assert.equal(await chain.stop(), 0);
});

test("start-chain without ANCHOR_CERT_DIR exits 1 naming it", async (t) => {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/start-chain.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ANCHOR_CERT_DIR: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => child.kill());
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once("exit", done));
  assert.equal(code, 1);
  assert.equal(stderr, "start-chain: ANCHOR_CERT_DIR is not set; point it at a gen-certs.sh folder\n");
});
