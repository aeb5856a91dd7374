/**
 * The HTTP target behind a real verify-mode listener: real TLS with client certificates made by our PKI, plain Node
 * backends on 127.0.0.1, and the failures the ALB responds to itself (502, 503, 504).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { join } from "node:path";
import { before, test, type TestContext } from "node:test";
import { connect } from "node:tls";
import { createRootCa, issueLeaf } from "../../src/pki/index.ts";
import {
  HOST,
  MANUAL_CHECKS,
  createMtlsClient,
  createPki,
  createRecordingLogger,
  startBackend,
  startListener,
  startTarget,
  type Pki,
} from "./http-fixtures.ts";

let pki: Pki;

before(async () => {
  pki = await createPki();
});

const FORWARD_ALL = { rules: [{ priority: 10, conditions: { pathPattern: ["/*"] }, action: { forward: "app" } }] };

/** Starts a raw TCP server whose connections `onConnection` handles; closed after the test. */
async function startRawServer(t: TestContext, onConnection: (socket: Socket) => void): Promise<number> {
  const server: NetServer = createNetServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as AddressInfo).port;
}

/** Sends one raw HTTP/1.1 request over mTLS and returns the raw response text. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect({ host: "127.0.0.1", port, servername: HOST, ca: pki.serverCa.certificatePem, cert: pki.client.certificatePem, key: pki.client.privateKeyPem, ALPNProtocols: ["http/1.1"] });
    socket.on("secureConnect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("latin1");
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

/** Waits until access.log has a line containing `text` and returns it. */
async function accessLogLine(logDir: string, text: string): Promise<string> {
  const path = join(logDir, "access.log");
  for (let attempt = 0; attempt < 200; attempt++) {
    const line = existsSync(path) ? readFileSync(path, "utf8").split("\n").find((candidate) => candidate.includes(text)) : undefined;
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no access-log line contains "${text}"`);
}

test("backend receives the ALB's request headers", async (t) => {
  const { logger } = createRecordingLogger();
  const backend = await startBackend(t);
  const target = await startTarget(t, { url: backend.url, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/items?q=a%20b&x=1", { method: "POST", headers: { "content-type": "application/json" }, body: '{"hello":"world"}' });

  assert.equal(response.status, 200);
  assert.equal(response.body, "backend saw POST /items?q=a%20b&x=1");
  assert.equal(backend.received.length, 1);
  const seen = backend.received[0]!;
  const leaf = new X509Certificate(pki.client.certificatePem);
  assert.equal(seen.body, '{"hello":"world"}');
  assert.equal(seen.headers["content-type"], "application/json");
  assert.equal(seen.headers["x-amzn-mtls-clientcert-serial-number"], leaf.serialNumber.toUpperCase());
  assert.equal(seen.headers["x-amzn-mtls-clientcert-subject"], "CN=origin pull,O=edgelock tests,C=JP");
  assert.equal(seen.headers["x-amzn-mtls-clientcert-issuer"], "CN=http target test client CA,O=edgelock tests");
  assert.match(String(seen.headers["x-amzn-mtls-clientcert-validity"]), /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(String(seen.headers["x-amzn-mtls-clientcert-leaf"]), /^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9+/=%]+-----END%20CERTIFICATE-----%0A$/);
  assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  assert.equal(seen.headers["x-forwarded-proto"], "https");
  assert.equal(seen.headers["x-forwarded-port"], String(listener.port));
  assert.match(String(seen.headers["x-amzn-trace-id"]), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  assert.equal(seen.headers.host, `${HOST}:${listener.port}`);
  assert.equal(seen.headers["content-length"], "17");
});

test("hop-by-hop headers removed both ways", async (t) => {
  const { logger } = createRecordingLogger();
  const backend = await startBackend(t, (_request, response) => {
    response.setHeader("Set-Cookie", ["a=1; Path=/", "b=2; Path=/"]);
    response.setHeader("X-Private-Hop", "secret-hop");
    response.setHeader("Connection", "keep-alive, X-Private-Hop");
    response.setHeader("X-Kept", "yes");
    response.write("chunk one, ");
    response.end("chunk two");
  });
  const target = await startTarget(t, { url: backend.url, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);

  const raw = await rawExchange(
    listener.port,
    `GET /hop HTTP/1.1\r\nHost: ${HOST}\r\nKeep-Alive: timeout=99\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-Custom: kept\r\nConnection: close\r\n\r\n`,
  );

  const seen = backend.received[0]!;
  assert.equal(seen.headers["x-custom"], "kept");
  assert.equal(seen.headers["keep-alive"], undefined);
  assert.equal(seen.headers["proxy-connection"], undefined);
  assert.equal(seen.headers.te, undefined);
  const [head = "", body] = raw.split("\r\n\r\n");
  assert.match(head, /^HTTP\/1\.1 200 OK/);
  assert.equal(body, "chunk one, chunk two");
  assert.doesNotMatch(head, /x-private-hop/i);
  assert.doesNotMatch(head, /keep-alive: timeout=5/i);
  assert.doesNotMatch(head, /transfer-encoding/i);
  assert.match(head, /\r\nX-Kept: yes/i);
  assert.match(head, /\r\ncontent-length: 20/i);
  assert.equal(head.match(/set-cookie: [ab]=\d; Path=\//gi)?.length, 2);
});

test("host header gets the listener port", async (t) => {
  const { logger } = createRecordingLogger();
  const backend = await startBackend(t);
  const rewritten = await startTarget(t, { url: backend.url, logger, name: "rewritten" });
  const preserved = await startTarget(t, { url: backend.url, logger, name: "preserved", preserveHostHeader: true });
  const rules = {
    rules: [
      { priority: 10, conditions: { pathPattern: ["/preserved"] }, action: { forward: "preserved" } },
      { priority: 20, conditions: { pathPattern: ["/*"] }, action: { forward: "rewritten" } },
    ],
  };
  const { listener } = await startListener(t, pki, new Map([["rewritten", rewritten], ["preserved", preserved]]), rules, logger);

  await rawExchange(listener.port, "GET /rewritten HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n");
  await rawExchange(listener.port, "GET /preserved HTTP/1.1\r\nHost: app.localhost\r\nConnection: close\r\n\r\n");

  assert.equal(backend.received[0]?.headers.host, `app.localhost:${listener.port}`);
  assert.equal(backend.received[1]?.headers.host, "app.localhost");
});

test("failing health checks mark the target unhealthy", async (t) => {
  const { logger, records } = createRecordingLogger();
  const backend = await startBackend(t);
  backend.healthStatus = 500;
  const target = await startTarget(t, { url: backend.url, logger, name: "api" });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);

  assert.equal(target.state(), "initial");
  const initial = await request("/before");
  assert.equal(initial.status, 503);
  assert.match(initial.body, /503 Service Unavailable/);
  assert.equal(initial.headers.server, "awselb/2.0");
  assert.equal(backend.received.length, 0);

  assert.equal(await target.checkNow(), "unhealthy");
  assert.equal(target.health().reason, "Target.ResponseCodeMismatch");
  const transition = records.find((record) => record.to === "unhealthy");
  assert.equal(transition?.level, 30);
  assert.equal(transition?.target, "api");
  assert.equal(transition?.reason, "Target.ResponseCodeMismatch");
  assert.equal(
    transition?.msg,
    'target "api" is unhealthy (Target.ResponseCodeMismatch): Health checks failed with these codes: [500] (GET /health, matcher "200") (2 consecutive failures, unhealthy threshold 2); requests still go to it, because no target of its group is healthy (fail open)',
  );

  // The group's only target is unhealthy, so the ALB fails open and the backend still responds.
  const failOpen = await request("/after");
  assert.equal(failOpen.status, 200);
  assert.equal(failOpen.body, "backend saw GET /after");

  backend.healthStatus = 200;
  assert.equal(await target.checkNow(), "unhealthy");
  assert.equal(await target.checkNow(), "healthy");
  const recovered = records.find((record) => record.to === "healthy");
  assert.equal(recovered?.from, "unhealthy");
  assert.equal(recovered?.msg, 'target "api" is healthy: 2 consecutive health checks passed (healthy threshold 2)');

  assert.equal(backend.healthChecks.length, 4);
  for (const check of backend.healthChecks) {
    assert.equal(check.method, "GET");
    assert.equal(check.headers["user-agent"], "ELB-HealthChecker/2.0");
  }
});

test("scheduled health checks run every interval", async (t) => {
  const { logger, records } = createRecordingLogger();
  const backend = await startBackend(t);
  const target = await startTarget(t, { url: backend.url, logger, healthCheck: { ...MANUAL_CHECKS, intervalSeconds: 0.05, timeoutSeconds: 0.04 } });
  assert.equal(target.state(), "healthy");

  backend.healthStatus = 404;
  for (let attempt = 0; attempt < 200 && target.state() !== "unhealthy"; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));

  assert.equal(target.state(), "unhealthy");
  assert.ok(backend.healthChecks.length >= 3, `expected at least 3 health checks, got ${backend.healthChecks.length}`);
  assert.deepEqual(
    records.filter((record) => record.to !== undefined).map((record) => `${record.from}->${record.to}`),
    ["unused->initial", "initial->healthy", "healthy->unhealthy"],
  );
});

test("closed port gives 502", async (t) => {
  const { logger, records } = createRecordingLogger();
  // A server that is closed right away leaves a port where nothing listens.
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));

  const target = await startTarget(t, { url: `http://127.0.0.1:${port}`, logger, healthCheck: { ...MANUAL_CHECKS, unhealthyThreshold: 1 } });
  assert.equal(target.state(), "unhealthy");
  assert.equal(target.health().reason, "Target.FailedHealthChecks");
  const { listener, logDir } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/refused");

  assert.equal(response.status, 502);
  assert.match(response.body, /502 Bad Gateway/);
  assert.equal(response.headers.server, "awselb/2.0");
  const warning = records.find((record) => record.errorReason === "TargetConnectionError" && record.target === "app");
  assert.equal(warning?.level, 40);
  assert.match(String(warning?.msg), /^request to target "app" failed: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+; responded with 502$/);
  assert.match(await accessLogLine(logDir, "/refused"), / 502 - .*"TargetConnectionError"/);
});

test("slow backend gives 504", async (t) => {
  const { logger, records } = createRecordingLogger();
  const backend = await startBackend(t, (request, response) => {
    if (request.url === "/slow") setTimeout(() => response.end("too late"), 3000).unref();
    else response.end("fast");
  });
  const target = await startTarget(t, { url: backend.url, logger, idleTimeoutSeconds: 1 });
  // Equal idle timeouts: the client connection must not be cut while the target is still working.
  const { listener } = await startListener(t, pki, new Map([["app", target]]), { ...FORWARD_ALL, attributes: { idleTimeoutSeconds: 1 } }, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/slow");

  assert.equal(response.status, 504);
  assert.match(response.body, /504 Gateway Timeout/);
  const warning = records.find((record) => record.errorReason === "TargetTimeout");
  assert.equal(warning?.msg, 'request to target "app" failed: UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error; responded with 504');
  assert.equal((await request("/fast")).body, "fast");
});

test("short body gives 504", async (t) => {
  const { logger, records } = createRecordingLogger();
  const port = await startRawServer(t, (socket) => {
    socket.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      if (text.startsWith("GET /health ")) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it");
    });
  });
  const target = await startTarget(t, { url: `http://127.0.0.1:${port}`, logger, idleTimeoutSeconds: 1 });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), { ...FORWARD_ALL, attributes: { idleTimeoutSeconds: 3 } }, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/short");

  assert.equal(response.status, 504);
  assert.equal(records.find((record) => record.errorReason === "TargetTimeout")?.msg, 'request to target "app" failed: UND_ERR_BODY_TIMEOUT: Body Timeout Error; responded with 504');
});

test("malformed response gives 502", async (t) => {
  const { logger, records } = createRecordingLogger();
  const port = await startRawServer(t, (socket) => {
    socket.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      if (text.startsWith("GET /health ")) socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      else socket.end("this is not HTTP\r\n\r\n");
    });
  });
  const target = await startTarget(t, { url: `http://127.0.0.1:${port}`, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/garbage");

  assert.equal(response.status, 502);
  const warning = records.find((record) => record.errorReason === "TargetResponseError");
  assert.match(String(warning?.msg), /^request to target "app" failed: .*Response does not match the HTTP\/1\.1 protocol.*; responded with 502$/);
});

test("rules send paths to their targets", async (t) => {
  const { logger } = createRecordingLogger();
  const api = await startBackend(t, (request, response) => response.end(`api:${request.url}`));
  const web = await startBackend(t, (request, response) => response.end(`web:${request.url}`));
  const apiTarget = await startTarget(t, { url: api.url, logger, name: "api" });
  const webTarget = await startTarget(t, { url: web.url, logger, name: "web" });
  const rules = {
    rules: [
      { priority: 10, conditions: { pathPattern: ["/api/*"] }, action: { forward: "api" } },
      { priority: 20, conditions: { pathPattern: ["/web/*", "/"] }, action: { forward: "web" } },
    ],
  };
  const { listener } = await startListener(t, pki, new Map([["api", apiTarget], ["web", webTarget]]), rules, logger);
  const request = createMtlsClient(t, pki, listener.port);

  assert.equal((await request("/api/users/1")).body, "api:/api/users/1");
  assert.equal((await request("/web/index.html")).body, "web:/web/index.html");
  assert.equal((await request("/")).body, "web:/");
  const unmatched = await request("/other");

  assert.equal(unmatched.status, 404);
  assert.equal(unmatched.body, "Not Found");
  assert.deepEqual(api.received.map((seen) => seen.url), ["/api/users/1"]);
  assert.deepEqual(web.received.map((seen) => seen.url), ["/web/index.html", "/"]);
});

test("stopped target gives 503", async (t) => {
  const { logger, records } = createRecordingLogger();
  const backend = await startBackend(t);
  const target = await startTarget(t, { url: backend.url, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);
  assert.equal((await request("/up")).status, 200);

  await target.stop();

  assert.equal(target.state(), "unused");
  assert.equal(target.health().reason, "Target.NotRegistered");
  const response = await request("/down");
  assert.equal(response.status, 503);
  assert.equal(records.find((record) => record.errorReason === "TargetNotInService")?.msg, 'target "app" is unused and not in service; responded with 503');
  await assert.rejects(target.checkNow(), { code: "ERR_TARGET_STATE", message: 'target "app" is not started; call start() before checkNow()' });
});

test("https upstream with and without verification", async (t) => {
  const { logger, records } = createRecordingLogger();
  const backendCa = await createRootCa({ commonName: "backend CA" });
  const otherCa = await createRootCa({ commonName: "unrelated CA" });
  const leaf = await issueLeaf(backendCa, { profile: "server", subject: { commonName: "backend" }, ipAddresses: ["127.0.0.1"] });
  const server = createHttpsServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (request, response) => {
    response.end(request.url === "/health" ? "" : `tls backend saw ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const unverified = await startTarget(t, { url, logger, name: "unverified" });
  const verified = await startTarget(t, { url, logger, name: "verified", verifyUpstreamCertificate: true, upstreamCa: backendCa.certificatePem });
  const untrusted = await startTarget(t, { url, logger, name: "untrusted", verifyUpstreamCertificate: true, upstreamCa: otherCa.certificatePem, healthCheck: { ...MANUAL_CHECKS, unhealthyThreshold: 1 } });
  const rules = {
    rules: [
      { priority: 10, conditions: { pathPattern: ["/unverified"] }, action: { forward: "unverified" } },
      { priority: 20, conditions: { pathPattern: ["/verified"] }, action: { forward: "verified" } },
      { priority: 30, conditions: { pathPattern: ["/untrusted"] }, action: { forward: "untrusted" } },
    ],
  };
  const { listener } = await startListener(t, pki, new Map([["unverified", unverified], ["verified", verified], ["untrusted", untrusted]]), rules, logger);
  const request = createMtlsClient(t, pki, listener.port);

  assert.equal((await request("/unverified")).body, "tls backend saw /unverified");
  assert.equal((await request("/verified")).body, "tls backend saw /verified");
  assert.equal(untrusted.state(), "unhealthy");
  assert.equal(untrusted.health().reason, "Target.FailedHealthChecks");
  const rejected = await request("/untrusted");
  assert.equal(rejected.status, 502);
  const warning = records.find((record) => record.errorReason === "TargetTLSNegotiationError");
  assert.equal(warning?.msg, 'request to target "untrusted" failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate; responded with 502');
});

test("HEAD keeps the declared length", async (t) => {
  const { logger } = createRecordingLogger();
  const backend = await startBackend(t, (_request, response) => {
    response.setHeader("content-type", "text/plain");
    response.setHeader("content-length", "5");
    response.end("hello");
  });
  const target = await startTarget(t, { url: backend.url, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);
  const request = createMtlsClient(t, pki, listener.port);

  const response = await request("/file", { method: "HEAD" });

  assert.equal(response.status, 200);
  assert.equal(response.headers["content-length"], "5");
  assert.equal(response.body, "");
});

test("listener close can be called twice", async (t) => {
  const { logger } = createRecordingLogger();
  const backend = await startBackend(t, (_request, response) => response.end("ok"));
  const target = await startTarget(t, { url: backend.url, logger });
  const { listener } = await startListener(t, pki, new Map([["app", target]]), FORWARD_ALL, logger);

  await Promise.all([listener.close(), listener.close()]);

  await listener.close();
});
