/**
 * The Access middleware in front of a real node:http backend, with the JWKS served over HTTPS by a server whose
 * certificate our PKI issued. Tokens come from the Access core's own signing keys; forgeries use another RSA key.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import type { webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SignJWT } from "jose";
import { Agent, fetch as undiciFetch, request as undiciRequest } from "undici";
import { issueAppToken, openSigningKeys, type FetchLike, type SigningKeyStore } from "../../src/access/index.ts";
import { accessMiddleware, verifyAccessRequest, type AccessMiddlewareOptions, type AccessRequest } from "../../src/middleware/index.ts";
import { createRootCa, generateKeyPair, issueLeaf } from "../../src/pki/index.ts";

const AUD = "a".repeat(64);
const OTHER_AUD = "b".repeat(64);
const TEAM = "team.localhost:8443";
const NOW = new Date("2026-03-01T09:00:00.000Z");

let keys: SigningKeyStore;
let forgeryKey: webcrypto.CryptoKey;
let jwksServer: HttpsServer;
let jwksRequests = 0;
let jwksUrl: string;
let trustedFetch: FetchLike;
let stateDir: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "edgelock-middleware-"));
  keys = await openSigningKeys(stateDir, { now: () => NOW });
  forgeryKey = (await generateKeyPair("rsa-2048")).privateKey;

  const ca = await createRootCa({ commonName: "middleware test CA" });
  const leaf = await issueLeaf(ca, { profile: "server", subject: { commonName: "team.localhost" }, dnsNames: ["team.localhost"], ipAddresses: ["127.0.0.1"] });
  jwksServer = createHttpsServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (request, response) => {
    jwksRequests++;
    if (request.url !== "/cdn-cgi/access/certs") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keys.jwks()));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  jwksUrl = `https://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/cdn-cgi/access/certs`;
  const agent = new Agent({ connect: { ca: ca.certificatePem, servername: "team.localhost" } });
  trustedFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: agent }) as unknown as ReturnType<FetchLike>;
});

after(async () => {
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
  rmSync(stateDir, { recursive: true, force: true });
});

function options(overrides: Partial<AccessMiddlewareOptions> = {}): AccessMiddlewareOptions {
  return { teamDomain: TEAM, audience: AUD, jwksUrl, fetch: trustedFetch, now: () => NOW, ...overrides };
}

function userToken(aud = AUD): Promise<string> {
  return issueAppToken(keys, { aud, email: "alice@example.com", teamDomain: TEAM, sessionSeconds: 3600, country: "JP", now: NOW });
}

/** Signs valid-looking claims with a key that is not in the JWKS, under the real kid. */
function forgedToken(): Promise<string> {
  const iat = NOW.getTime() / 1000;
  return new SignJWT({ aud: [AUD], email: "mallory@example.com", type: "app", sub: "x", country: "JP" })
    .setProtectedHeader({ alg: "RS256", kid: keys.current().kid })
    .setIssuer(`https://${TEAM}`)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + 3600)
    .sign(forgeryKey);
}

interface Backend {
  url: string;
  rejections: unknown[];
  handled: number;
}

/** Starts a node:http backend guarded by the middleware; it returns the identity as JSON. */
async function startBackend(t: { after(fn: () => unknown): void }, middlewareOptions: AccessMiddlewareOptions): Promise<Backend> {
  const backend: Backend = { url: "", rejections: [], handled: 0 };
  const guard = accessMiddleware({ ...middlewareOptions, onReject: (error) => backend.rejections.push(error) });
  const server: HttpServer = createHttpServer((request, response) => {
    guard(request, response, () => {
      backend.handled++;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify((request as AccessRequest).accessIdentity));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  backend.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return backend;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const response = await undiciRequest(url, { headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

test("valid token reaches the handler", async (t) => {
  const backend = await startBackend(t, options());
  const response = await get(`${backend.url}/`, { "cf-access-jwt-assertion": await userToken() });

  assert.equal(response.status, 200);
  const identity = JSON.parse(response.text) as { kind: string; email: string; country: string };
  assert.equal(identity.kind, "user");
  assert.equal(identity.email, "alice@example.com");
  assert.equal(identity.country, "JP");
  assert.equal(backend.handled, 1);
  assert.equal(backend.rejections.length, 0);
});

test("cookie token is accepted", async (t) => {
  const backend = await startBackend(t, options());
  const response = await get(`${backend.url}/`, { cookie: `theme=dark; CF_Authorization=${await userToken()}` });

  assert.equal(response.status, 200);
  assert.equal((JSON.parse(response.text) as { email: string }).email, "alice@example.com");
});

test("request that skipped the edge gets 401", async (t) => {
  const backend = await startBackend(t, options());
  const response = await get(`${backend.url}/admin`);

  assert.equal(response.status, 401);
  assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
  assert.equal(response.headers["cache-control"], "no-store");
  assert.deepEqual(JSON.parse(response.text), {
    error: "access_token_missing",
    reason: "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie",
  });
  assert.equal(backend.handled, 0);
  assert.equal((backend.rejections[0] as { code?: string }).code, "ERR_TOKEN_MISSING");
});

test("forged token gets 401", async (t) => {
  const backend = await startBackend(t, options());
  const token = await forgedToken();
  const response = await get(`${backend.url}/`, { "cf-access-jwt-assertion": token });

  assert.equal(response.status, 401);
  assert.deepEqual(JSON.parse(response.text), { error: "access_token_invalid", reason: 'token signature does not verify with the key its "kid" names' });
  assert.ok(!response.text.includes(token.split(".")[2] ?? "-"), "the body must not echo the token");
  assert.equal(backend.handled, 0);
});

test("wrong audience gets 401", async (t) => {
  const backend = await startBackend(t, options());
  const token = await userToken(OTHER_AUD);
  const response = await get(`${backend.url}/`, { "cf-access-jwt-assertion": token });

  assert.equal(response.status, 401);
  assert.deepEqual(JSON.parse(response.text), {
    error: "access_token_invalid",
    reason: `claim "aud" does not contain the expected AUD (got ["${OTHER_AUD}"]); expected ${AUD}`,
  });
  assert.ok(!response.text.includes(token), "the body must not echo the token");
  assert.equal((backend.rejections[0] as { code?: string }).code, "ERR_TOKEN_AUDIENCE");
});

test("unreachable JWKS gets 503", async (t) => {
  const missingUrl = jwksUrl.replace("/certs", "/missing");
  const backend = await startBackend(t, options({ jwksUrl: missingUrl }));
  const response = await get(`${backend.url}/`, { "cf-access-jwt-assertion": await userToken() });

  assert.equal(response.status, 503);
  assert.deepEqual(JSON.parse(response.text), {
    error: "access_keys_unavailable",
    reason: `JWKS at ${missingUrl} returned HTTP 404; check the team domain and the network path to it`,
  });
  assert.equal(backend.handled, 0);
});

test("plain check takes Headers and records", async () => {
  const shared = options();
  const token = await userToken();
  const before = jwksRequests;

  const fromHeaders = await verifyAccessRequest(new Headers({ "Cf-Access-Jwt-Assertion": token }), shared);
  const fromRecord = await verifyAccessRequest({ "cf-access-jwt-assertion": token }, shared);

  assert.equal(fromHeaders.kind === "user" && fromHeaders.email, "alice@example.com");
  assert.equal(fromRecord.kind === "user" && fromRecord.email, "alice@example.com");
  assert.equal(jwksRequests - before, 1, "one options object keeps one JWKS cache");
  await assert.rejects(verifyAccessRequest({}, shared), {
    name: "AccessTokenError",
    code: "ERR_TOKEN_MISSING",
    message: "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie",
  });
});

test("missing audience fails at creation", () => {
  assert.throws(() => accessMiddleware(options({ audience: "" })), {
    code: "ERR_ACCESS_CONFIG",
    message: "\"audience\" is missing; set it to the Access application's AUD tag (64 hex characters, the application's \"aud\" output)",
  });
});
