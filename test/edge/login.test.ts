import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { before, test } from "node:test";
import { decodeJwt } from "jose";
import { createPki, hiddenField, login, pinFromMessage, startEdge, type EdgeClient, type EdgeHarness, type Pki } from "./fixtures.ts";

let pki: Pki;
before(async () => {
  pki = await createPki();
});

/** Opens the app, follows to the login page, and submits `email`; returns the login URL and the PIN page. */
async function requestPin(client: EdgeClient, email: string, headers: Record<string, string> = {}, path = "/"): Promise<{ loginUrl: string; body: string; status: number }> {
  const hops = await client.follow(client.url("app.localhost", path), { headers });
  const loginUrl = String(hops[0]?.headers.location);
  const page = await client.send(loginUrl, { form: { step: "email", email }, headers });
  return { loginUrl, body: page.body, status: page.status };
}

function lastPin(harness: EdgeHarness): string {
  const files = harness.outbox();
  assert.equal(files.length > 0, true, "the outbox has a message");
  return pinFromMessage(files.sort().at(-1) as string);
}

test("OTP login reaches the origin with Access headers", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "Alice@Example.com", {}, "/docs/a?b=1");
  assert.match(body, /A code has been emailed to you\. It expires in 10 minutes\./);

  const [eml] = harness.outbox();
  assert.ok(eml);
  assert.equal(statSync(eml).mode & 0o777, 0o600);
  const message = readFileSync(eml, "utf8");
  assert.match(message, /^From: edgelock Access <noreply@team\.localhost>\r\nTo: Alice@Example\.com\r\nSubject: Your login code for app\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\nMessage-ID: <[0-9a-f]+@team\.localhost>\r\n/);
  const pin = pinFromMessage(eml);
  assert.match(pin, /^\d{6}$/);
  assert.deepEqual(harness.pins.map((sent) => [sent.email, sent.pin, sent.emlPath]), [["Alice@Example.com", pin, eml]]);

  const hops = await client.follow(loginUrl, { form: { step: "pin", flow: hiddenField(body, "flow"), pin } });
  assert.deepEqual(hops.map((hop) => hop.status), [302, 302, 200]);
  assert.match(String(hops[0]?.headers.location), new RegExp(`^https://app\\.localhost:${harness.edge.port}/cdn-cgi/access/authorized\\?nonce=`));
  assert.match(hops[0]?.setCookies.find((cookie) => cookie.startsWith("CF_Authorization=")) ?? "", /; Path=\/; Secure; HttpOnly; SameSite=none$/);
  assert.equal(hops[1]?.headers.location, "/docs/a?b=1");

  const appCookie = hops[1]?.setCookies.find((cookie) => cookie.startsWith("CF_Authorization=")) ?? "";
  assert.match(appCookie, /^CF_Authorization=[\w-]+\.[\w-]+\.[\w-]+; Expires=[^;]+; Path=\/; Secure; HttpOnly; SameSite=none$/);
  const token = /^CF_Authorization=([^;]+)/.exec(appCookie)?.[1] ?? "";
  const claims = decodeJwt(token);
  assert.equal(Date.parse(/Expires=([^;]+)/.exec(appCookie)?.[1] ?? ""), (claims.exp ?? 0) * 1000, "cookie Expires equals the token's exp");
  assert.equal(claims.email, "Alice@Example.com");
  assert.equal(claims.type, "app");
  assert.equal(claims.iss, `https://team.localhost:${harness.edge.port}`);

  const hit = harness.origin.hits.at(-1);
  assert.equal(hit?.url, "/docs/a?b=1");
  assert.equal(hit?.headers["cf-access-jwt-assertion"], token);
  assert.equal(hit?.headers["cf-access-authenticated-user-email"], "Alice@Example.com");
  assert.equal(hit?.clientCertificate, "app.localhost", "the edge presented the origin-pull certificate");

  const again = await client.send(client.url("app.localhost", "/second"));
  assert.equal(again.status, 200, "the app cookie opens the app without another login");

  const logText = JSON.stringify(harness.records);
  assert.equal(logText.includes(pin), false, "the PIN never reaches the JSON logs");
  assert.equal(logText.includes(token), false, "the token never reaches the JSON logs");
  assert.ok(harness.records.some((record) => record.event === "pin_sent" && record.emlPath === eml));
});

test("disallowed email gets no message but the same page", async (t) => {
  const harness = await startEdge(t, pki);
  const allowed = await requestPin(harness.client(), "bob@example.com");
  const denied = await requestPin(harness.client(), "mallory@evil.example");

  assert.equal(harness.outbox().length, 1, "only the allowed address got a message");
  assert.deepEqual(harness.pins.map((sent) => sent.email), ["bob@example.com"]);
  // The meta token and the flow id differ per visit; everything else must match byte for byte.
  const normalize = (html: string, email: string): string => html.replace(email, "EMAIL").replace(/name="flow" value="[0-9a-f]+"/, "FLOW").replaceAll(/meta=[\w.-]+/g, "META");
  assert.equal(denied.status, allowed.status);
  assert.equal(normalize(denied.body, "mallory@evil.example"), normalize(allowed.body, "bob@example.com"));
  assert.ok(harness.records.some((record) => record.event === "pin_not_sent" && record.email === "mallory@evil.example"));
});

test("wrong PIN shows the no-access message", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "carol@example.com");
  const pin = lastPin(harness);
  const wrong = pin === "000000" ? "111111" : "000000";

  const response = await client.send(loginUrl, { form: { step: "pin", flow: hiddenField(body, "flow"), pin: wrong } });
  assert.equal(response.status, 200);
  assert.match(response.body, /That account does not have access\./);
  assert.equal(client.jar.get("team.localhost")?.has("CF_Authorization"), false);
});

test("PIN locks after the maximum wrong tries", async (t) => {
  const harness = await startEdge(t, pki, { local: { otp: { length: 8, ttlSeconds: 600, maxAttempts: 3 } } });
  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "dave@example.com");
  const pin = lastPin(harness);
  assert.match(pin, /^\d{8}$/);
  const flow = hiddenField(body, "flow");
  const wrong = pin === "00000000" ? "11111111" : "00000000";

  for (let attempt = 1; attempt <= 3; attempt++) {
    const response = await client.send(loginUrl, { form: { step: "pin", flow, pin: wrong } });
    assert.match(response.body, /That account does not have access\./, `attempt ${attempt}`);
  }
  const late = await client.send(loginUrl, { form: { step: "pin", flow, pin } });
  assert.equal(late.status, 200);
  assert.match(late.body, /That account does not have access\./);
  assert.equal(late.headers.location, undefined);
  assert.ok(harness.records.some((record) => record.event === "pin_rejected" && record.reason === "pin_locked"));
});

test("PIN expires after its lifetime", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "erin@example.com");
  const pin = lastPin(harness);
  harness.advance(601);

  const response = await client.send(loginUrl, { form: { step: "pin", flow: hiddenField(body, "flow"), pin } });
  assert.equal(response.status, 200);
  assert.match(response.body, /That account does not have access\./);
  assert.ok(harness.records.some((record) => record.event === "pin_rejected" && record.reason === "pin_expired"));
});

test("open redirect attempts land on the root", async (t) => {
  const harness = await startEdge(t, pki);
  const cases: [string, string][] = [
    ["https://evil.example/steal", "/"],
    ["//evil.example/steal", "/"],
    ["/\\evil.example", "/"],
    ["javascript:alert(1)", "/"],
    [`https://app.localhost:${harness.edge.port}/inside?q=1`, "/inside?q=1"],
    ["/fine/path?x=1", "/fine/path?x=1"],
  ];
  for (const [redirect, expected] of cases) {
    const client = harness.client();
    const first = await client.send(client.url("app.localhost", "/"));
    const original = new URL(String(first.headers.location));
    original.searchParams.set("redirect_url", redirect);
    await client.send(original.href);
    const pinPage = await client.send(original.href, { form: { step: "email", email: "frank@example.com" } });
    const pin = harness.pins.at(-1)?.pin ?? "";

    const hops = await client.follow(original.href, { form: { step: "pin", flow: hiddenField(pinPage.body, "flow"), pin } });
    assert.equal(hops[1]?.headers.location, expected, `redirect_url ${redirect}`);
  }
});

test("login page language follows Accept-Language", async (t) => {
  const harness = await startEdge(t, pki);
  const japanese = await requestPin(harness.client(), "gina@example.com", { "accept-language": "ja,en-US;q=0.8" });
  assert.match(japanese.body, /<html lang="ja">/);
  assert.match(japanese.body, /コードをメールで送信しました。有効期限は10分です。/);
  const message = readFileSync(harness.outbox()[0] as string, "utf8");
  assert.match(message, /^Subject: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=\r$/m);
  assert.match(message, /ログインコード/);

  const english = await harness.client().send(harness.client().url("team.localhost", `/cdn-cgi/access/login/app.localhost`), { headers: { "accept-language": "en-GB,ja;q=0.5" } });
  assert.match(english.body, /<html lang="en">/);
  assert.match(english.body, /id="email" name="email"/);
  assert.match(english.body, /id="submit" name="submit"/);
  assert.match(String(english.headers["cf-access-domain"]), /^app\.localhost$/);

  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "gina@example.com", { "accept-language": "ja" });
  const wrong = await client.send(loginUrl, { form: { step: "pin", flow: hiddenField(body, "flow"), pin: "x" }, headers: { "accept-language": "ja" } });
  assert.match(wrong.body, /このアカウントにはアクセス権がありません。/);
});

test("valid org cookie skips the login form", async (t) => {
  const harness = await startEdge(t, pki, { application: { sessionDuration: "1h" } });
  const client = harness.client();
  await login(harness, client, "hana@example.com");
  const sentBefore = harness.pins.length;
  harness.advance(2 * 3600);

  const hops = await client.follow(client.url("app.localhost", "/later"));
  assert.deepEqual(hops.map((hop) => hop.status), [302, 302, 302, 200]);
  assert.match(String(hops[1]?.headers.location), /\/cdn-cgi\/access\/authorized\?nonce=/);
  assert.equal(harness.pins.length, sentBefore, "no new PIN");
  assert.equal(harness.origin.hits.at(-1)?.url, "/later");
});

test("authorized without the CF_AppSession cookie is rejected", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const { loginUrl, body } = await requestPin(client, "ivan@example.com");
  const pin = lastPin(harness);
  const pinResponse = await client.send(loginUrl, { form: { step: "pin", flow: hiddenField(body, "flow"), pin } });
  client.jar.get("app.localhost")?.delete("CF_AppSession");

  const callback = await client.send(String(pinResponse.headers.location));
  assert.equal(callback.status, 400);
  assert.match(callback.body, /did not start in this browser session/);
  assert.equal(callback.setCookies.length, 0);
  const replay = await client.send(String(pinResponse.headers.location));
  assert.equal(replay.status, 400, "a nonce is used up by the first attempt");
});

test("get-identity and logout", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  const anonymous = await client.send(client.url("app.localhost", "/cdn-cgi/access/get-identity"));
  assert.equal(anonymous.status, 401);

  await login(harness, client, "judy@example.com");
  const identity = await client.send(client.url("app.localhost", "/cdn-cgi/access/get-identity"));
  assert.equal(identity.status, 200);
  const body = JSON.parse(identity.body) as Record<string, unknown>;
  assert.equal(body.email, "judy@example.com");
  assert.match(String(body.user_uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(harness.origin.hits.some((hit) => hit.url.startsWith("/cdn-cgi/")), false);

  const logout = await client.send(client.url("app.localhost", "/cdn-cgi/access/logout"));
  assert.equal(logout.status, 200);
  assert.match(logout.setCookies[0] ?? "", /^CF_Authorization=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=\/; Secure; HttpOnly/);
  assert.equal((await client.send(client.url("app.localhost", "/"))).status, 302);
});

test("JWKS endpoint has Cloudflare's shape", async (t) => {
  const harness = await startEdge(t, pki);
  const response = await harness.client().send(harness.client().url("team.localhost", "/cdn-cgi/access/certs"));
  assert.equal(response.status, 200);
  assert.match(String(response.headers["content-type"]), /^application\/json/);
  const jwks = JSON.parse(response.body) as { keys: Record<string, string>[]; public_cert: { kid: string; cert: string }; public_certs: { kid: string; cert: string }[] };
  assert.equal(jwks.keys.length, 1);
  assert.deepEqual(Object.keys(jwks.keys[0] ?? {}).sort(), ["alg", "e", "kid", "kty", "n", "use"]);
  assert.equal(jwks.keys[0]?.alg, "RS256");
  assert.match(jwks.keys[0]?.kid ?? "", /^[0-9a-f]{64}$/);
  assert.equal(jwks.public_cert.kid, jwks.keys[0]?.kid);
  assert.match(jwks.public_cert.cert, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(jwks.public_certs.length, 1);

  await harness.edge.rotateKeys();
  const rotated = JSON.parse((await harness.client().send(harness.client().url("team.localhost", "/cdn-cgi/access/certs"))).body) as { keys: { kid: string }[] };
  assert.equal(rotated.keys.length, 2);
  assert.equal(rotated.keys[1]?.kid, jwks.keys[0]?.kid, "the previous key stays after rotation");
});
