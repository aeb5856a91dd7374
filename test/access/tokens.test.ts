import "reflect-metadata";
import assert from "node:assert/strict";
import { createHash, createPublicKey } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as x509 from "@peculiar/x509";
import { decodeJwt, decodeProtectedHeader } from "jose";
import {
  AccessError,
  AccessTokenError,
  issueAppToken,
  issueMetaToken,
  issueOrgToken,
  issueServiceAppToken,
  openSigningKeys,
  orgTokenAudience,
  subjectForEmail,
  verifyEdgeToken,
  verifyMetaToken,
  type AppTokenClaims,
  type SigningKeyStore,
} from "../../src/access/index.ts";
import { NOW } from "./fixtures.ts";

const AUD = "a".repeat(64);
const TEAM = "acme.cloudflareaccess.com";
const DAY_MS = 86_400_000;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-access-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function payloadKeys(token: string): string[] {
  return Object.keys(JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as object);
}

function rejects(code: string, message: string | RegExp) {
  return (error: AccessTokenError) => {
    assert.ok(error instanceof AccessTokenError, `expected AccessTokenError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  };
}

// One store for the tests that only issue and verify; RSA keys are generated once per file where possible.
let shared: SigningKeyStore | undefined;
const sharedDir = mkdtempSync(join(tmpdir(), "edgelock-access-shared-"));
after(() => rmSync(sharedDir, { recursive: true, force: true }));
async function sharedKeys(): Promise<SigningKeyStore> {
  shared ??= await openSigningKeys(sharedDir, { now: () => NOW });
  return shared;
}

test("first open creates one key", async (t) => {
  const dir = tempDir(t);
  const keys = await openSigningKeys(dir, { now: () => NOW });
  const key = keys.current();

  assert.match(key.kid, /^[0-9a-f]{64}$/);
  const spki = createPublicKey(readFileSync(join(dir, `${key.kid}.key.pem`), "utf8")).export({ type: "spki", format: "der" });
  assert.equal(key.kid, createHash("sha256").update(spki).digest("hex"));
  assert.equal(statSync(join(dir, `${key.kid}.key.pem`)).mode & 0o777, 0o600);
  assert.equal(key.publicKey.asymmetricKeyDetails?.modulusLength, 2048);

  const index = readFileSync(join(dir, "signing-keys.json"), "utf8");
  assert.doesNotMatch(index, /PRIVATE KEY/);
  assert.deepEqual(readdirSync(dir).sort(), [`${key.kid}.key.pem`, "signing-keys.json"].sort());
});

test("jwks has cloudflare's shape", async () => {
  const keys = await sharedKeys();
  const jwks = keys.jwks();
  const key = keys.current();

  assert.deepEqual(Object.keys(jwks), ["keys", "public_cert", "public_certs"]);
  assert.deepEqual(jwks.keys, [{ kid: key.kid, kty: "RSA", alg: "RS256", use: "sig", e: "AQAB", n: key.n }]);
  assert.equal(jwks.public_cert.kid, key.kid);
  assert.deepEqual(jwks.public_certs, [jwks.public_cert]);

  const certificate = new x509.X509Certificate(jwks.public_cert.cert);
  assert.match(jwks.public_cert.cert, /^-----BEGIN CERTIFICATE-----/);
  const certificateKey = createPublicKey(certificate.publicKey.toString("pem"));
  assert.equal(certificateKey.export({ format: "jwk" }).n, key.n);
  assert.ok(await certificate.verify({ signatureOnly: true }));
});

test("app token header and claims", async () => {
  const keys = await sharedKeys();
  const token = await issueAppToken(keys, { aud: AUD, email: "Alice@Example.com", teamDomain: TEAM, sessionSeconds: 86_400, country: "JP", now: NOW });

  assert.deepEqual(decodeProtectedHeader(token), { alg: "RS256", kid: keys.current().kid });
  assert.deepEqual(payloadKeys(token), ["aud", "email", "exp", "iat", "nbf", "iss", "type", "identity_nonce", "sub", "country"]);
  const claims = decodeJwt(token);
  const iat = NOW.getTime() / 1000;
  assert.deepEqual(claims.aud, [AUD]);
  assert.equal(claims.email, "Alice@Example.com");
  assert.equal(claims.iat, iat);
  assert.equal(claims.nbf, iat);
  assert.equal(claims.exp, iat + 86_400);
  assert.equal(claims.iss, "https://acme.cloudflareaccess.com");
  assert.equal(claims.type, "app");
  assert.match(String(claims.identity_nonce), /^[A-Za-z0-9]{16}$/);
  assert.match(String(claims.sub), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(claims.sub, subjectForEmail("alice@example.com", TEAM));
  assert.equal(claims.country, "JP");
});

test("sub is stable per email and team", () => {
  assert.equal(subjectForEmail("bob@example.com", TEAM), subjectForEmail("BOB@example.com", TEAM));
  assert.notEqual(subjectForEmail("bob@example.com", TEAM), subjectForEmail("carol@example.com", TEAM));
  assert.notEqual(subjectForEmail("bob@example.com", TEAM), subjectForEmail("bob@example.com", "other.cloudflareaccess.com"));
});

test("identity nonce differs per token", async () => {
  const keys = await sharedKeys();
  const input = { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 60, country: "JP", now: NOW };
  const first = decodeJwt(await issueAppToken(keys, input));
  const second = decodeJwt(await issueAppToken(keys, input));
  assert.notEqual(first.identity_nonce, second.identity_nonce);
});

test("service app token claims", async () => {
  const keys = await sharedKeys();
  const clientId = `${"0f".repeat(16)}.access`;
  const token = await issueServiceAppToken(keys, { aud: AUD, clientId, teamDomain: "https://team.localhost:8443/", sessionSeconds: 3600, now: NOW });

  assert.deepEqual(decodeProtectedHeader(token), { alg: "RS256", kid: keys.current().kid });
  assert.deepEqual(payloadKeys(token), ["type", "aud", "exp", "iss", "common_name", "iat", "sub"]);
  const claims = decodeJwt(token);
  assert.deepEqual(claims.aud, [AUD]);
  assert.equal(claims.iss, "https://team.localhost:8443");
  assert.equal(claims.common_name, clientId);
  assert.equal(claims.sub, "");
  assert.equal(claims.email, undefined);

  const verified = await verifyEdgeToken(keys, token, { aud: AUD, teamDomain: "team.localhost:8443", now: NOW });
  assert.equal((verified as { common_name: string }).common_name, clientId);
});

test("edge verifies its app token", async () => {
  const keys = await sharedKeys();
  const token = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 600, country: "JP", now: NOW });

  const claims = await verifyEdgeToken(keys, token, { aud: AUD, teamDomain: TEAM, now: new Date(NOW.getTime() + 599_000) });
  assert.equal(claims.type, "app");
  await assert.rejects(
    verifyEdgeToken(keys, token, { aud: AUD, teamDomain: TEAM, now: new Date(NOW.getTime() + 600_000) }),
    rejects("ERR_TOKEN_EXPIRED", 'token expired: claim "exp" is 2026-03-01T09:10:00.000Z, now is 2026-03-01T09:10:00.000Z (clock tolerance 0 s)'),
  );
  await assert.rejects(
    verifyEdgeToken(keys, token, { aud: "b".repeat(64), teamDomain: TEAM, now: NOW }),
    rejects("ERR_TOKEN_AUDIENCE", `claim "aud" does not contain the expected AUD (got ["${AUD}"]); expected ${"b".repeat(64)}`),
  );
  await assert.rejects(
    verifyEdgeToken(keys, token, { aud: AUD, teamDomain: "other.cloudflareaccess.com", now: NOW }),
    rejects("ERR_TOKEN_ISSUER", 'claim "iss" must be "https://other.cloudflareaccess.com" (got "https://acme.cloudflareaccess.com")'),
  );
  await assert.rejects(verifyEdgeToken(keys, undefined, { aud: AUD, teamDomain: TEAM }), rejects("ERR_TOKEN_MISSING", "no CF_Authorization token"));
});

test("org token is not an app token", async () => {
  const keys = await sharedKeys();
  const token = await issueOrgToken(keys, { email: "a@example.com", teamDomain: TEAM, sessionSeconds: 86_400, country: "JP", now: NOW });
  const claims = decodeJwt(token);
  assert.equal(claims.type, "org");
  assert.deepEqual(claims.aud, [orgTokenAudience(TEAM)]);

  const org = await verifyEdgeToken(keys, token, { aud: orgTokenAudience(TEAM), teamDomain: TEAM, type: "org", now: NOW });
  assert.equal(org.type, "org");
  await assert.rejects(verifyEdgeToken(keys, token, { aud: AUD, teamDomain: TEAM, now: NOW }), rejects("ERR_TOKEN_AUDIENCE", /^claim "aud" does not contain the expected AUD/));
  await assert.rejects(
    verifyEdgeToken(keys, token, { aud: orgTokenAudience(TEAM), teamDomain: TEAM, now: NOW }),
    rejects("ERR_TOKEN_TYPE", 'claim "type" must be "app" (got "org")'),
  );
});

test("meta token binds the app session", async () => {
  const keys = await sharedKeys();
  const token = await issueMetaToken(keys, { aud: AUD, hostname: "app.localhost", redirectUrl: "/x?y=1", appSession: "n0123456789abcdef", now: NOW });

  assert.deepEqual(decodeProtectedHeader(token), { alg: "RS256", kid: keys.current().kid, typ: "JWT" });
  const claims = await verifyMetaToken(keys, token, { appSession: "n0123456789abcdef", now: NOW });
  assert.equal(claims.type, "meta");
  assert.equal(claims.aud, AUD);
  assert.equal(claims.hostname, "app.localhost");
  assert.equal(claims.redirect_url, "/x?y=1");
  assert.equal(claims.app_session_hash, createHash("sha256").update("n0123456789abcdef").digest("hex"));
  assert.equal("iss" in claims, false);

  const otherSession = "meta token belongs to another CF_AppSession cookie; start the login again from the application";
  await assert.rejects(verifyMetaToken(keys, token, { appSession: "n0000000000000000", now: NOW }), rejects("ERR_TOKEN_SESSION", otherSession));
  await assert.rejects(verifyMetaToken(keys, token, { appSession: undefined, now: NOW }), rejects("ERR_TOKEN_SESSION", otherSession));
  await assert.rejects(
    verifyMetaToken(keys, token, { appSession: "n0123456789abcdef", now: new Date(NOW.getTime() + DAY_MS) }),
    rejects("ERR_TOKEN_EXPIRED", /^token expired: claim "exp" is 2026-03-02T09:00:00.000Z/),
  );

  const appToken = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 600, country: "JP", now: NOW });
  await assert.rejects(verifyMetaToken(keys, appToken, { appSession: "n0123456789abcdef", now: NOW }), rejects("ERR_TOKEN_MALFORMED", 'claim "app_session_hash" is missing'));
});

test("issue inputs are checked", async () => {
  const keys = await sharedKeys();
  const base = { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 60, country: "JP", now: NOW };
  const cases: [Partial<typeof base>, string][] = [
    [{ aud: "APP" }, 'aud must be an application AUD of 64 lowercase hex characters (got "APP")'],
    [{ email: "alice" }, 'email must be an address such as "alice@example.com" (got "alice")'],
    [{ country: "Japan" }, 'country must be an ISO 3166-1 alpha-2 code such as "JP", "XX" or "T1" (got "Japan")'],
    [{ sessionSeconds: 0 }, "sessionSeconds must be a positive whole number of seconds (got 0)"],
    [{ teamDomain: "https://acme.cloudflareaccess.com/login" }, '"teamDomain" must be a host name with an optional port, such as "acme.cloudflareaccess.com" or "https://team.localhost:8443" (got "https://acme.cloudflareaccess.com/login")'],
  ];
  for (const [change, message] of cases) {
    await assert.rejects(issueAppToken(keys, { ...base, ...change }), (error: AccessError) => {
      assert.ok(error instanceof AccessError);
      assert.match(error.code, /^ERR_ACCESS_(INVALID_INPUT|CONFIG)$/);
      assert.equal(error.message, message);
      return true;
    });
  }
});

test("rotation keeps old tokens in grace", async (t) => {
  const dir = tempDir(t);
  let now = NOW;
  const keys = await openSigningKeys(dir, { graceDays: 7, now: () => now });
  const oldKid = keys.current().kid;
  const oldToken = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 30 * 86_400, country: "JP", now });

  const fresh = await keys.rotate();
  assert.notEqual(fresh.kid, oldKid);
  assert.deepEqual(keys.jwks().keys.map((key) => key.kid), [fresh.kid, oldKid]);
  assert.equal(keys.jwks().public_cert.kid, fresh.kid);
  assert.deepEqual(keys.jwks().public_certs.map((cert) => cert.kid), [fresh.kid, oldKid]);
  const newToken = await issueAppToken(keys, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 30 * 86_400, country: "JP", now });
  assert.equal(decodeProtectedHeader(newToken).kid, fresh.kid);

  now = new Date(NOW.getTime() + 7 * DAY_MS - 1000);
  assert.equal((await verifyEdgeToken(keys, oldToken, { aud: AUD, teamDomain: TEAM, now })).type, "app");

  now = new Date(NOW.getTime() + 7 * DAY_MS);
  assert.deepEqual(keys.jwks().keys.map((key) => key.kid), [fresh.kid]);
  await assert.rejects(
    verifyEdgeToken(keys, oldToken, { aud: AUD, teamDomain: TEAM, now }),
    rejects("ERR_TOKEN_UNKNOWN_KID", `header "kid" names no current signing key (kid ${oldKid})`),
  );
  assert.equal((await verifyEdgeToken(keys, newToken, { aud: AUD, teamDomain: TEAM, now })).type, "app");

  await keys.rotate();
  assert.equal(existsSync(join(dir, `${oldKid}.key.pem`)), false);
  assert.equal(keys.keys().length, 2);
});

test("store survives reopening", async (t) => {
  const dir = tempDir(t);
  const first = await openSigningKeys(dir, { now: () => NOW });
  const oldKid = first.current().kid;
  const oldToken = await issueAppToken(first, { aud: AUD, email: "a@example.com", teamDomain: TEAM, sessionSeconds: 3600, country: "JP", now: NOW });
  await first.rotate(NOW);

  const reopened = await openSigningKeys(dir, { now: () => NOW });
  assert.deepEqual(reopened.keys().map((key) => key.kid), first.keys().map((key) => key.kid));
  assert.equal(reopened.keys()[1]?.kid, oldKid);
  assert.equal(reopened.keys()[1]?.retiredAt?.toISOString(), NOW.toISOString());
  assert.equal(((await verifyEdgeToken(reopened, oldToken, { aud: AUD, teamDomain: TEAM, now: NOW })) as AppTokenClaims).email, "a@example.com");

  const newToken = await issueAppToken(reopened, { aud: AUD, email: "b@example.com", teamDomain: TEAM, sessionSeconds: 3600, country: "JP", now: NOW });
  assert.equal(((await verifyEdgeToken(first, newToken, { aud: AUD, teamDomain: TEAM, now: NOW })) as AppTokenClaims).email, "b@example.com");
});

test("corrupt key folder is reported", async (t) => {
  const dir = tempDir(t);
  const keys = await openSigningKeys(dir, { now: () => NOW });
  const index = join(dir, "signing-keys.json");

  rmSync(join(dir, `${keys.current().kid}.key.pem`));
  await assert.rejects(openSigningKeys(dir), (error: AccessError) => {
    assert.equal(error.code, "ERR_SIGNING_KEYS_CORRUPT");
    assert.equal(error.message.startsWith(`${index}: lists kid ${keys.current().kid}, but ${join(dir, keys.current().kid)}.key.pem cannot be read;`), true);
    return true;
  });

  writeFileSync(index, "{");
  await assert.rejects(openSigningKeys(dir), (error: AccessError) => {
    assert.equal(error.code, "ERR_SIGNING_KEYS_CORRUPT");
    assert.equal(error.message, `${index}: cannot be read as JSON; restore the folder from a backup or delete it to start with new keys`);
    return true;
  });
  await assert.rejects(openSigningKeys(dir, { graceDays: -1 }), (error: AccessError) => {
    assert.equal(error.code, "ERR_ACCESS_INVALID_INPUT");
    assert.equal(error.message, "graceDays must be a number of days of 0 or more (got -1)");
    return true;
  });
});
