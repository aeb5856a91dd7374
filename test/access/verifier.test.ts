import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { SignJWT, type JWTPayload } from "jose";
import { Agent, fetch as undiciFetch } from "undici";
import {
  AccessError,
  AccessTokenError,
  createAccessVerifier,
  issueAppToken,
  issueMetaToken,
  issueServiceAppToken,
  openSigningKeys,
  type AccessVerifierOptions,
  type FetchLike,
  type SigningKeyStore,
} from "../../src/access/index.ts";
import { createRootCa, exportPrivateKeyPem, generateKeyPair, issueLeaf } from "../../src/pki/index.ts";
import { NOW } from "./fixtures.ts";

const AUD = "c".repeat(64);
const TEAM = "team.localhost:8443";
const ISSUER = "https://team.localhost:8443";

let keys: SigningKeyStore;
let attackerKey: webcrypto.CryptoKey;
let server: Server;
let jwksUrl: string;
let trustedFetch: FetchLike;
let untrustedFetch: FetchLike;
let stateDir: string;

before(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "edgelock-verifier-"));
  keys = await openSigningKeys(stateDir, { now: () => NOW });
  attackerKey = (await generateKeyPair("rsa-2048")).privateKey;

  const root = await createRootCa({ commonName: "verifier test CA" });
  const leaf = await issueLeaf(root, { profile: "server", subject: { commonName: "team.localhost" }, dnsNames: ["team.localhost"], ipAddresses: ["127.0.0.1"] });
  const otherRoot = await createRootCa({ commonName: "unrelated CA" });

  server = createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (request, response) => {
    if (request.url !== "/cdn-cgi/access/certs") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(keys.jwks()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/cdn-cgi/access/certs`;

  const trusted = new Agent({ connect: { ca: root.certificatePem, servername: "team.localhost" } });
  const untrusted = new Agent({ connect: { ca: otherRoot.certificatePem, servername: "team.localhost" } });
  trustedFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: trusted });
  untrustedFetch = (url, init) => undiciFetch(url, { ...init, dispatcher: untrusted });
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(stateDir, { recursive: true, force: true });
});

/** Creates a verifier against the test JWKS, with a clock the test moves by setting `clock.now`. */
function makeVerifier(overrides: Partial<AccessVerifierOptions> = {}) {
  const clock = { now: NOW };
  const verifier = createAccessVerifier({ teamDomain: TEAM, audience: AUD, jwksUrl, fetch: trustedFetch, now: () => clock.now, ...overrides });
  return { verifier, clock };
}

function later(seconds: number): Date {
  return new Date(NOW.getTime() + seconds * 1000);
}

function userToken(overrides: { aud?: string; now?: Date; sessionSeconds?: number } = {}): Promise<string> {
  return issueAppToken(keys, { aud: overrides.aud ?? AUD, email: "alice@example.com", teamDomain: TEAM, sessionSeconds: overrides.sessionSeconds ?? 3600, country: "JP", now: overrides.now ?? NOW });
}

function claims(extra: JWTPayload = {}): JWTPayload {
  const iat = NOW.getTime() / 1000;
  return { aud: [AUD], email: "alice@example.com", exp: iat + 3600, iat, nbf: iat, iss: ISSUER, type: "app", sub: "s", country: "JP", ...extra };
}

function signWith(key: webcrypto.CryptoKey | Uint8Array, header: { alg: string; kid?: string; typ?: string }, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

function rejects(code: string, message: string) {
  return (error: AccessTokenError) => {
    assert.ok(error instanceof AccessTokenError, `expected AccessTokenError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  };
}

test("valid user token is accepted", async () => {
  const { verifier } = makeVerifier();
  const identity = await verifier.verify(await userToken());
  assert.equal(identity.kind, "user");
  assert.equal(identity.kind === "user" && identity.email, "alice@example.com");
  assert.equal(identity.kind === "user" && identity.country, "JP");
  assert.equal(verifier.issuer, ISSUER);
  assert.equal(verifier.jwksFetchCount(), 1);
});

test("service token is a service identity", async () => {
  const { verifier } = makeVerifier();
  const token = await issueServiceAppToken(keys, { aud: AUD, clientId: "ab".repeat(16) + ".access", teamDomain: TEAM, sessionSeconds: 600, now: NOW });
  const identity = await verifier.verify(token);
  assert.deepEqual({ kind: identity.kind, commonName: identity.kind === "service" ? identity.commonName : "" }, { kind: "service", commonName: `${"ab".repeat(16)}.access` });
});

test("alg none is rejected", async () => {
  const { verifier } = makeVerifier();
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = `${encode({ alg: "none", kid: keys.current().kid })}.${encode(claims())}.`;
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_ALGORITHM", 'header "alg" must be "RS256" (got "none")'));
  assert.equal(verifier.jwksFetchCount(), 0);
});

test("hs256 with the public key is rejected", async () => {
  const { verifier } = makeVerifier();
  const publicPem = keys.current().publicKey.export({ type: "spki", format: "pem" });
  const token = await signWith(Buffer.from(publicPem), { alg: "HS256", kid: keys.current().kid }, claims());
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_ALGORITHM", 'header "alg" must be "RS256" (got "HS256")'));
});

test("wrong aud is rejected", async () => {
  const { verifier } = makeVerifier();
  const other = "d".repeat(64);
  await assert.rejects(
    verifier.verify(await userToken({ aud: other })),
    rejects("ERR_TOKEN_AUDIENCE", `claim "aud" does not contain the expected AUD (got ["${other}"]); expected ${AUD}`),
  );
});

test("missing aud is rejected", async () => {
  const { verifier } = makeVerifier();
  const { aud: _aud, ...withoutAud } = claims();
  const token = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid }, withoutAud);
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_AUDIENCE", `claim "aud" is missing; expected ${AUD}`));
});

test("aud as a string is accepted", async () => {
  const { verifier } = makeVerifier();
  const token = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid }, claims({ aud: AUD }));
  assert.equal((await verifier.verify(token)).kind, "user");
});

test("typ absent or JWT is accepted", async () => {
  const { verifier } = makeVerifier();
  const withoutTyp = await userToken();
  assert.equal(JSON.parse(Buffer.from(withoutTyp.split(".")[0] ?? "", "base64url").toString()).typ, undefined);
  assert.equal((await verifier.verify(withoutTyp)).kind, "user");
  const withTyp = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid, typ: "JWT" }, claims());
  assert.equal((await verifier.verify(withTyp)).kind, "user");
});

test("expired token is rejected after tolerance", async () => {
  const { verifier, clock } = makeVerifier();
  const token = await userToken({ sessionSeconds: 600 });
  clock.now = later(600 + 59);
  assert.equal((await verifier.verify(token)).kind, "user");
  clock.now = later(600 + 60);
  await assert.rejects(
    verifier.verify(token),
    rejects("ERR_TOKEN_EXPIRED", 'token expired: claim "exp" is 2026-03-01T09:10:00.000Z, now is 2026-03-01T09:11:00.000Z (clock tolerance 60 s)'),
  );
});

test("future nbf is rejected beyond tolerance", async () => {
  const { verifier } = makeVerifier();
  assert.equal((await verifier.verify(await userToken({ now: later(60) }))).kind, "user");
  await assert.rejects(
    verifier.verify(await userToken({ now: later(120) })),
    rejects("ERR_TOKEN_NOT_YET_VALID", 'token is not valid yet: claim "nbf" is 2026-03-01T09:02:00.000Z, now is 2026-03-01T09:00:00.000Z (clock tolerance 60 s)'),
  );
});

test("tolerance of zero is honoured", async () => {
  const { verifier, clock } = makeVerifier({ clockToleranceSeconds: 0 });
  const token = await userToken({ sessionSeconds: 600 });
  clock.now = later(600);
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_EXPIRED", 'token expired: claim "exp" is 2026-03-01T09:10:00.000Z, now is 2026-03-01T09:10:00.000Z (clock tolerance 0 s)'));
});

test("unknown kid refetches once then fails", async () => {
  const { verifier, clock } = makeVerifier();
  const strangerKid = "e".repeat(64);
  const stranger = await signWith(attackerKey, { alg: "RS256", kid: strangerKid }, claims());
  const failure = rejects("ERR_TOKEN_UNKNOWN_KID", `header "kid" names no key in ${jwksUrl} (kid ${strangerKid})`);

  await verifier.verify(await userToken());
  assert.equal(verifier.jwksFetchCount(), 1);

  clock.now = later(61);
  await assert.rejects(verifier.verify(stranger), failure);
  assert.equal(verifier.jwksFetchCount(), 2);

  await assert.rejects(verifier.verify(stranger), failure);
  clock.now = later(100);
  await assert.rejects(verifier.verify(stranger), failure);
  assert.equal(verifier.jwksFetchCount(), 2);

  clock.now = later(122);
  await assert.rejects(verifier.verify(stranger), failure);
  assert.equal(verifier.jwksFetchCount(), 3);
});

test("attacker key with a real kid fails", async () => {
  const { verifier } = makeVerifier();
  const token = await signWith(attackerKey, { alg: "RS256", kid: keys.current().kid }, claims());
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_SIGNATURE", 'token signature does not verify with the key its "kid" names'));
});

test("tampered payload fails", async () => {
  const { verifier } = makeVerifier();
  const [header, payload, signature] = (await userToken()).split(".") as [string, string, string];
  const changed = { ...JSON.parse(Buffer.from(payload, "base64url").toString()), email: "mallory@example.com" };
  const token = `${header}.${Buffer.from(JSON.stringify(changed)).toString("base64url")}.${signature}`;
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_SIGNATURE", 'token signature does not verify with the key its "kid" names'));
});

test("wrong issuer is rejected", async () => {
  const { verifier } = makeVerifier();
  const token = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: "evil.cloudflareaccess.com", sessionSeconds: 600, country: "JP", now: NOW });
  await assert.rejects(verifier.verify(token), rejects("ERR_TOKEN_ISSUER", 'claim "iss" must be "https://team.localhost:8443" (got "https://evil.cloudflareaccess.com")'));
});

test("meta and org tokens are not app tokens", async () => {
  const { verifier } = makeVerifier();
  const meta = await issueMetaToken(keys, { aud: AUD, hostname: "app.localhost", redirectUrl: "/", appSession: "n0000000000000000", now: NOW });
  await assert.rejects(verifier.verify(meta), rejects("ERR_TOKEN_ISSUER", 'claim "iss" is missing'));
  const org = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid }, claims({ type: "org" }));
  await assert.rejects(verifier.verify(org), rejects("ERR_TOKEN_TYPE", 'claim "type" must be "app" (got "org")'));
});

test("malformed tokens are rejected", async () => {
  const { verifier } = makeVerifier();
  await assert.rejects(verifier.verify("not-a-token"), rejects("ERR_TOKEN_MALFORMED", 'token is not a compact JWS (three base64url parts separated by ".")'));
  await assert.rejects(verifier.verify("a.b.c"), rejects("ERR_TOKEN_MALFORMED", "token header is not base64url-encoded JSON"));
  const noKid = await signWith(keys.current().privateKey, { alg: "RS256" }, claims());
  await assert.rejects(verifier.verify(noKid), rejects("ERR_TOKEN_MALFORMED", 'header "kid" is missing; Access tokens name their signing key'));
  const { exp: _exp, ...withoutExp } = claims();
  const noExp = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid }, withoutExp);
  await assert.rejects(verifier.verify(noExp), rejects("ERR_TOKEN_MALFORMED", 'claim "exp" is missing'));
  const { email: _email, ...anonymous } = claims();
  const noIdentity = await signWith(keys.current().privateKey, { alg: "RS256", kid: keys.current().kid }, anonymous);
  await assert.rejects(verifier.verify(noIdentity), rejects("ERR_TOKEN_MALFORMED", 'token has neither an "email" nor a "common_name" claim'));
});

test("request header wins over cookie", async () => {
  const { verifier } = makeVerifier();
  const token = await userToken();
  const missing = rejects("ERR_TOKEN_MISSING", "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie");

  assert.equal((await verifier.verifyRequest({ "Cf-Access-Jwt-Assertion": token, cookie: "CF_Authorization=garbage" })).kind, "user");
  assert.equal((await verifier.verifyRequest({ cookie: `theme=dark; CF_Authorization=${token}; other=1` })).kind, "user");
  assert.equal((await verifier.verifyRequest({ Cookie: ["theme=dark", `CF_Authorization=${token}`] })).kind, "user");
  assert.equal((await verifier.verifyRequest(new Headers({ "cf-access-jwt-assertion": token }))).kind, "user");
  await assert.rejects(verifier.verifyRequest({ cookie: "cf_authorization=x" }), missing);
  await assert.rejects(verifier.verifyRequest({}), missing);
  await assert.rejects(verifier.verify(""), missing);
});

test("rotated key is fetched and old tokens verify", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-verifier-rotation-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rotating = await openSigningKeys(dir, { now: () => NOW });
  const serve: FetchLike = async () => ({ status: 200, text: async () => JSON.stringify(rotating.jwks()) });
  const { verifier, clock } = makeVerifier({ fetch: serve });

  const before = await issueAppToken(rotating, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 86_400, country: "JP", now: NOW });
  assert.equal((await verifier.verify(before)).kind, "user");
  await rotating.rotate(NOW);
  const afterRotation = await issueAppToken(rotating, { aud: AUD, email: "b@example.com", teamDomain: TEAM, sessionSeconds: 86_400, country: "JP", now: NOW });

  clock.now = later(60);
  assert.equal((await verifier.verify(afterRotation)).kind, "user");
  assert.equal((await verifier.verify(before)).kind, "user");
  assert.equal(verifier.jwksFetchCount(), 2);
});

test("untrusted jwks server is refused", async () => {
  const { verifier } = makeVerifier({ fetch: untrustedFetch });
  await assert.rejects(verifier.verify(await userToken()), (error: AccessTokenError) => {
    assert.equal(error.code, "ERR_JWKS_UNAVAILABLE");
    assert.match(error.message, new RegExp(`^JWKS at ${jwksUrl.replaceAll(".", "\\.")} could not be fetched: .+; check the team domain and the network path to it$`));
    return true;
  });
  await assert.rejects(verifier.verify(await userToken()), (error: AccessTokenError) => error.code === "ERR_JWKS_UNAVAILABLE");
  assert.equal(verifier.jwksFetchCount(), 1);
});

test("jwks http error is reported", async () => {
  const { verifier } = makeVerifier({ jwksUrl: jwksUrl.replace("/certs", "/missing") });
  await assert.rejects(
    verifier.verify(await userToken()),
    rejects("ERR_JWKS_UNAVAILABLE", `JWKS at ${jwksUrl.replace("/certs", "/missing")} returned HTTP 404; check the team domain and the network path to it`),
  );
});

test("missing settings fail at creation", () => {
  const cases: [Partial<AccessVerifierOptions>, string][] = [
    [{ teamDomain: undefined }, '"teamDomain" is missing; set it to the team domain, such as "acme.cloudflareaccess.com"'],
    [{ teamDomain: "" }, '"teamDomain" is missing; set it to the team domain, such as "acme.cloudflareaccess.com"'],
    [{ audience: undefined }, '"audience" is missing; set it to the Access application\'s AUD tag (64 hex characters, the application\'s "aud" output)'],
    [{ audience: [] }, '"audience" is missing; set it to the Access application\'s AUD tag (64 hex characters, the application\'s "aud" output)'],
    [{ audience: "my-app" }, '"audience" must be AUD tags of 64 lowercase hex characters (got "my-app")'],
    [{ clockToleranceSeconds: 301 }, '"clockToleranceSeconds" must be a number of seconds from 0 to 300 (got 301)'],
    [{ refetchIntervalSeconds: -1 }, '"refetchIntervalSeconds" must be a number of seconds of 0 or more (got -1)'],
  ];
  for (const [change, message] of cases) {
    assert.throws(
      () => createAccessVerifier({ teamDomain: TEAM, audience: AUD, ...change }),
      (error: AccessError) => {
        assert.ok(error instanceof AccessError);
        assert.equal(error.code, "ERR_ACCESS_CONFIG");
        assert.equal(error.message, message);
        return true;
      },
      message,
    );
  }
});

test("default jwks url follows the team domain", async () => {
  const requested: string[] = [];
  const record: FetchLike = async (url) => {
    requested.push(url);
    return { status: 200, text: async () => JSON.stringify(keys.jwks()) };
  };
  const verifier = createAccessVerifier({ teamDomain: "https://Acme.cloudflareaccess.com/", audience: [AUD, "f".repeat(64)], fetch: record, now: () => NOW });
  const token = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: "acme.cloudflareaccess.com", sessionSeconds: 60, country: "JP", now: NOW });
  assert.equal((await verifier.verify(token)).kind, "user");
  assert.deepEqual(requested, ["https://acme.cloudflareaccess.com/cdn-cgi/access/certs"]);
});

test("concurrent first lookups share one fetch", async () => {
  const { verifier } = makeVerifier();
  const first = await userToken();
  const second = await userToken({ now: later(1) });

  const identities = await Promise.all([verifier.verify(first), verifier.verify(second), verifier.verify(first)]);

  assert.deepEqual(identities.map((identity) => identity.kind), ["user", "user", "user"]);
  assert.equal(verifier.jwksFetchCount(), 1);
});

test("cached token is dropped after a JWKS fetch", async () => {
  const { verifier, clock } = makeVerifier({ cacheMaxAgeSeconds: 30, refetchIntervalSeconds: 10 });
  const token = await userToken();
  await verifier.verify(token);

  clock.now = later(31);
  await verifier.verify(token);

  assert.equal(verifier.jwksFetchCount(), 2);
});
