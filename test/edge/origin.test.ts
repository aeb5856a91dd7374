import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { before, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { promisify } from "node:util";
import { decodeJwt } from "jose";
import { createPki, startEdge, startOrigin, temporaryFolder, writePem, type EdgeHarness, type FakeOrigin, type Pki } from "./fixtures.ts";

let pki: Pki;
before(async () => {
  pki = await createPki();
});

function serviceHeaders(harness: EdgeHarness): Record<string, string> {
  return { "cf-access-client-id": harness.serviceToken?.clientId ?? "", "cf-access-client-secret": harness.serviceToken?.clientSecret ?? "" };
}

/** Starts a raw TLS server with the origin's certificate that runs `onSecure` for each connection. */
async function startTlsOrigin(t: { after(fn: () => Promise<void> | void): void }, onSecure: (tlsSocket: import("node:tls").TLSSocket, raw: Socket) => void): Promise<FakeOrigin> {
  const raws: Socket[] = [];
  const server = createTlsServer({ cert: pki.originServer.certificatePem, key: pki.originServer.privateKeyPem, ca: pki.ca.certificatePem, requestCert: true, rejectUnauthorized: true });
  server.on("connection", (raw: Socket) => raws.push(raw));
  server.on("secureConnection", (socket) => onSecure(socket, raws.at(-1) as Socket));
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const raw of raws) raw.destroy();
    server.close(() => resolve());
  }));
  const port = (server.address() as AddressInfo).port;
  return { port, url: `https://alb.localhost:${port}`, hits: [] };
}

/** Requests a page from the edge with a valid service token and returns the status and the logged failure reason. */
async function pull(harness: EdgeHarness): Promise<{ status: number; body: string; reason: unknown }> {
  const response = await harness.client().send(harness.client().url("app.localhost", "/pull"), { headers: serviceHeaders(harness) });
  const failure = harness.records.find((record) => record.event === "origin_failed");
  return { status: response.status, body: response.body, reason: failure?.reason };
}

test("spoofed edge headers never reach the origin", async (t) => {
  const harness = await startEdge(t, pki);
  const response = await harness.client().send(harness.client().url("app.localhost", "/echo?q=1"), {
    headers: {
      ...serviceHeaders(harness),
      "cf-connecting-ip": "198.51.100.7",
      "x-forwarded-for": "203.0.113.9",
      "x-forwarded-proto": "http",
      "cf-ray": "0000000000000000-SJC",
      "cf-visitor": '{"scheme":"http"}',
      "cdn-loop": "spoof",
      "cf-ipcountry": "US",
      "x-real-ip": "198.51.100.8",
      "cf-access-jwt-assertion": "forged.token.value",
      "cf-access-authenticated-user-email": "ceo@example.com",
      cookie: "CF_Binding=abc; theme=dark",
    },
  });

  assert.equal(response.status, 200);
  const seen = harness.origin.hits.at(-1)?.headers ?? {};
  assert.equal(seen["cf-connecting-ip"], "127.0.0.1");
  assert.equal(seen["x-forwarded-for"], "203.0.113.9,127.0.0.1");
  assert.equal(seen["x-forwarded-proto"], "https");
  assert.equal(seen["cf-ray"], response.headers["cf-ray"]);
  assert.match(String(seen["cf-ray"]), /^[0-9a-f]{16}-NRT$/);
  assert.equal(seen["cf-visitor"], '{"scheme":"https"}');
  assert.equal(seen["cdn-loop"], "cloudflare");
  assert.equal(seen["cf-ipcountry"], "JP");
  assert.equal(seen["x-real-ip"], undefined);
  assert.equal(seen["cf-access-authenticated-user-email"], undefined, "service tokens carry no email");
  assert.equal(seen["cf-access-client-id"], undefined);
  assert.equal(seen["cf-access-client-secret"], undefined);
  assert.equal(seen.host, `app.localhost:${harness.edge.port}`);
  assert.equal(String(seen.cookie).includes("CF_Binding"), false);
  assert.match(String(seen.cookie), /theme=dark/);

  const assertion = decodeJwt(String(seen["cf-access-jwt-assertion"]));
  assert.equal(assertion.common_name, harness.serviceToken?.clientId);
  assert.equal(assertion.sub, "");

  assert.equal(response.headers.server, "cloudflare");
  assert.equal(response.headers["x-accel-redirect"], undefined);
  assert.equal(response.headers["content-type"], "application/json");
});

test("service token mints a reusable cookie", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const first = await client.send(client.url("app.localhost", "/"), { headers: serviceHeaders(harness) });
  assert.equal(first.status, 200);
  const cookie = first.setCookies.find((line) => line.startsWith("CF_Authorization="));
  assert.match(cookie ?? "", /^CF_Authorization=[\w-]+\.[\w-]+\.[\w-]+; Expires=[^;]+; Path=\/; Secure; HttpOnly; SameSite=none$/);
  assert.ok(first.setCookies.includes("origin=1; Path=/"), "the origin's own cookie is kept");

  const second = await client.send(client.url("app.localhost", "/again"));
  assert.equal(second.status, 200, "the cookie alone opens an app that has an Allow policy");

  const wrong = await harness.client().send(harness.client().url("app.localhost", "/"), { headers: { ...serviceHeaders(harness), "cf-access-client-secret": "0".repeat(64) } });
  assert.equal(wrong.status, 302);
  assert.ok(harness.records.some((record) => record.event === "service_token_rejected"));
});

test("bypass passes client Access headers only when configured", async (t) => {
  const policies = [{ name: "health", decision: "bypass", include: [{ everyone: true }] }];
  const spoofed = { "cf-access-authenticated-user-email": "ceo@example.com", "cf-access-jwt-assertion": "forged" };

  const strict = await startEdge(t, pki, { policies });
  assert.equal((await strict.client().send(strict.client().url("app.localhost", "/health"), { headers: spoofed })).status, 200);
  assert.equal(strict.origin.hits.at(-1)?.headers["cf-access-authenticated-user-email"], undefined);
  assert.equal(strict.origin.hits.at(-1)?.headers["cf-access-jwt-assertion"], undefined);

  const passing = await startEdge(t, pki, { policies, local: { stripClientAccessHeadersOnBypass: false } });
  await passing.client().send(passing.client().url("app.localhost", "/health"), { headers: spoofed });
  assert.equal(passing.origin.hits.at(-1)?.headers["cf-access-authenticated-user-email"], "ceo@example.com");
});

test("HTTP/2 POST body reaches the origin through curl", async (t) => {
  const harness = await startEdge(t, pki);
  const folder = temporaryFolder(t);
  const port = harness.edge.port;
  const { stdout } = await promisify(execFile)("curl", [
    "-sS", "--http2", "--cacert", writePem(folder, "ca.pem", pki.ca.certificatePem), "--resolve", `app.localhost:${port}:127.0.0.1`,
    "-H", `CF-Access-Client-Id: ${harness.serviceToken?.clientId}`, "-H", `CF-Access-Client-Secret: ${harness.serviceToken?.clientSecret}`,
    "--data-binary", "hello=world", "-w", "\n%{http_code} %{http_version}", `https://app.localhost:${port}/submit`,
  ], { encoding: "utf8" });

  assert.match(stdout, /\n200 2$/);
  assert.equal(harness.origin.hits.at(-1)?.method, "POST");
  assert.equal(harness.origin.hits.at(-1)?.body, "hello=world");
});

test("refused origin port gives 521", async (t) => {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const harness = await startEdge(t, pki, { fakeOrigin: { port, url: `https://alb.localhost:${port}`, hits: [] } });
  const result = await pull(harness);
  assert.equal(result.status, 521);
  assert.match(result.body, /Error 521: Web server is down/);
  assert.equal(result.reason, "origin_refused");
});

test("stalled handshake gives 522", async (t) => {
  const silent = createTcpServer(() => {});
  const openSockets: Socket[] = [];
  silent.on("connection", (socket) => openSockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => { for (const socket of openSockets) socket.destroy(); silent.close(() => resolve()); }));
  const port = (silent.address() as AddressInfo).port;

  const harness = await startEdge(t, pki, { fakeOrigin: { port, url: `https://alb.localhost:${port}`, hits: [] }, local: { originConnectTimeoutSeconds: 0.3 } });
  const result = await pull(harness);
  assert.equal(result.status, 522);
  assert.equal(result.reason, "origin_connect_timeout");
});

test("origin trusting another CA gives 525", async (t) => {
  const origin = await startOrigin(t, { server: pki.originServer, clientCa: pki.otherCa });
  const harness = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(harness);
  assert.equal(result.status, 525);
  assert.match(result.body, /Error 525: SSL handshake failed/);
  assert.equal(result.reason, "origin_closed_after_handshake");
  assert.equal(origin.hits.length, 0);
});

test("reset after the handshake gives 525", async (t) => {
  const origin = await startTlsOrigin(t, (socket, raw) => {
    socket.once("data", () => raw.resetAndDestroy());
  });
  const harness = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(harness);
  assert.equal(result.status, 525);
  assert.equal(result.reason, "origin_reset_before_response");
});

test("untrusted or misnamed origin certificate gives 526", async (t) => {
  const untrustedServer = await import("../../src/pki/index.ts").then((pkiModule) => pkiModule.issueLeaf(pki.otherCa, { profile: "server", subject: { commonName: "alb.localhost" }, dnsNames: ["alb.localhost"] }));
  const origin = await startOrigin(t, { server: untrustedServer, clientCa: pki.ca });
  const strict = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(strict);
  assert.equal(result.status, 526);
  assert.match(result.body, /Error 526: Invalid SSL certificate/);
  assert.equal(result.reason, "origin_certificate_invalid");

  const full = await startEdge(t, pki, { fakeOrigin: origin, local: { sslMode: "full" } });
  assert.equal((await pull(full)).status, 200, "Full mode does not validate the origin certificate");

  const misnamed = await startEdge(t, pki, { origin: { servername: "wrong.localhost" } });
  const mismatch = await pull(misnamed);
  assert.equal(mismatch.status, 526);
  assert.equal(mismatch.reason, "origin_certificate_invalid");
});

test("origin closing without a response gives 520", async (t) => {
  const origin = await startOrigin(t, { server: pki.originServer, clientCa: pki.ca, handler: (request) => request.socket.end() });
  const harness = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(harness);
  assert.equal(result.status, 520);
  assert.equal(result.reason, "origin_closed_without_response");
});

test("garbage response gives 520", async (t) => {
  const origin = await startTlsOrigin(t, (socket) => {
    socket.once("data", () => socket.end("SPEAKING NONSENSE\r\n\r\n"));
  });
  const harness = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(harness);
  assert.equal(result.status, 520);
  assert.equal(result.reason, "origin_invalid_response");
});

test("origin status codes pass through", async (t) => {
  const origin = await startOrigin(t, {
    server: pki.originServer,
    clientCa: pki.ca,
    handler: (_request, response) => {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end("bad gateway from the origin");
    },
  });
  const harness = await startEdge(t, pki, { fakeOrigin: origin });
  const result = await pull(harness);
  assert.equal(result.status, 502);
  assert.equal(result.body, "bad gateway from the origin");
  assert.equal(result.reason, undefined);
});
