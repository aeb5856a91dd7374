import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCookies, removeCookie, serializeCookie } from "../../src/edge/cookies.ts";
import { buildOriginRequestHeaders, classifyOriginFailure, filterOriginResponseHeaders, negotiateLanguage, sameHostRedirect } from "../../src/edge/index.ts";
import { createPinStore } from "../../src/edge/login/otp.ts";
import { formatMessage } from "../../src/edge/login/outbox.ts";

const AT = new Date("2026-12-04T12:00:00Z");

test("language negotiation table", () => {
  const cases: [string | undefined, "ja" | "en"][] = [
    [undefined, "en"],
    ["ja", "ja"],
    ["ja-JP,ja;q=0.9,en;q=0.8", "ja"],
    ["en-US,en;q=0.9,ja;q=0.8", "en"],
    ["fr,ja;q=0.5", "ja"],
    ["fr,de", "en"],
    ["en;q=0.5,ja;q=0.6", "ja"],
    ["ja;q=0", "en"],
  ];
  for (const [header, expected] of cases) assert.equal(negotiateLanguage(header), expected, String(header));
});

test("same-host redirect table", () => {
  const cases: [string | null, string][] = [
    [null, "/"],
    ["/a/b?c=1", "/a/b?c=1"],
    ["//evil.example/x", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example/x", "/"],
    ["https://app.localhost:8443/in?x=1", "/in?x=1"],
    ["http://app.localhost/in", "/"],
    ["javascript:alert(1)", "/"],
    ["relative/path", "/"],
    ["/a\r\nSet-Cookie: x=1", "/"],
  ];
  for (const [value, expected] of cases) assert.equal(sameHostRedirect(value, "app.localhost"), expected, String(value));
});

test("cookie helpers", () => {
  assert.deepEqual([...parseCookies("a=1; CF_Authorization=x.y.z; a=2")], [["a", "1"], ["CF_Authorization", "x.y.z"]]);
  assert.equal(removeCookie(["CF_Binding=1; a=2", "b=3"], "CF_Binding"), "a=2; b=3");
  assert.equal(removeCookie("CF_Binding=1", "CF_Binding"), undefined);
  assert.equal(serializeCookie("CF_AppSession", "n0123456789abcdef", { expires: AT }), "CF_AppSession=n0123456789abcdef; Expires=Fri, 04 Dec 2026 12:00:00 GMT; Path=/; Secure; HttpOnly");
  assert.equal(serializeCookie("CF_Authorization", "t", { httpOnly: false, sameSite: "lax" }), "CF_Authorization=t; Path=/; Secure; SameSite=lax");
});

test("origin request headers replace edge-set ones", () => {
  const headers = buildOriginRequestHeaders(
    { host: "app.localhost", "x-forwarded-for": "10.0.0.1, 10.0.0.2", "cf-connecting-ip": "1.1.1.1", "cf-access-client-secret": "s", connection: "x-drop", "x-drop": "1", "bad.name": "1", accept: "*/*" },
    { clientIp: "127.0.0.1", rayId: "0123456789abcdef-NRT", country: "JP" },
    { assertion: "a.b.c", email: "a@example.com" },
  );
  assert.deepEqual(headers, {
    accept: "*/*",
    "x-forwarded-for": "10.0.0.1,10.0.0.2,127.0.0.1",
    "x-forwarded-proto": "https",
    "cf-connecting-ip": "127.0.0.1",
    "cf-ipcountry": "JP",
    "cf-ray": "0123456789abcdef-NRT",
    "cf-visitor": '{"scheme":"https"}',
    "cdn-loop": "cloudflare",
    "cf-access-jwt-assertion": "a.b.c",
    "cf-access-authenticated-user-email": "a@example.com",
  });
  assert.deepEqual(filterOriginResponseHeaders({ "x-accel-buffering": "no", "transfer-encoding": "chunked", "content-type": "text/plain" }), { "content-type": "text/plain" });
});

test("origin failure classification table", () => {
  const failure = (code: string): Error & { code: string } => Object.assign(new Error(code), { code });
  const cases: [Error & { code: string }, "connect" | "response", number, string][] = [
    [failure("ECONNREFUSED"), "connect", 521, "origin_refused"],
    [failure("UND_ERR_CONNECT_TIMEOUT"), "connect", 522, "origin_connect_timeout"],
    [failure("UND_ERR_HEADERS_TIMEOUT"), "response", 524, "origin_response_timeout"],
    [failure("DEPTH_ZERO_SELF_SIGNED_CERT"), "connect", 526, "origin_certificate_invalid"],
    [failure("ERR_TLS_CERT_ALTNAME_INVALID"), "connect", 526, "origin_certificate_invalid"],
    [failure("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED"), "response", 525, "origin_tls_failed"],
    [failure("ECONNRESET"), "connect", 525, "origin_reset_during_handshake"],
    [failure("ECONNRESET"), "response", 525, "origin_reset_before_response"],
    [failure("UND_ERR_SOCKET"), "response", 520, "origin_closed_without_response"],
    [failure("HPE_INVALID_CONSTANT"), "response", 520, "origin_invalid_response"],
    [failure("EINVAL"), "response", 502, "origin_failed"],
  ];
  for (const [error, phase, status, reason] of cases) {
    assert.deepEqual(classifyOriginFailure(error, phase), { status, reason, errorCode: error.code }, `${error.code} ${phase}`);
  }
  const closed = failure("UND_ERR_SOCKET");
  assert.equal(classifyOriginFailure(closed, "response", { protocol: "TLSv1.3", sessionTicketReceived: false }).status, 525);
  assert.equal(classifyOriginFailure(closed, "response", { protocol: "TLSv1.3", sessionTicketReceived: true }).status, 520);
  assert.equal(classifyOriginFailure(Object.assign(new Error("not HTTP"), { name: "HTTPParserError" }), "response").status, 520);
});

test("PIN store expiry, lockout and single use", () => {
  const store = createPinStore<string>({ length: 6, ttlSeconds: 600, maxAttempts: 2 });
  const { id, pin } = store.start("a@example.com", "session-1", "data", true, AT);
  assert.match(pin ?? "", /^\d{6}$/);
  assert.deepEqual(store.check(id, "session-2", pin ?? "", AT), { result: "unknown" }, "another browser session cannot use the PIN");
  assert.equal(store.check(id, "session-1", pin ?? "", new Date(AT.getTime() + 600_000)).result, "expired");

  const second = store.start("a@example.com", "session-1", "data", true, AT);
  const wrong = second.pin === "000000" ? "111111" : "000000";
  assert.equal(store.check(second.id, "session-1", wrong, AT).result, "wrong");
  assert.equal(store.check(second.id, "session-1", wrong, AT).result, "locked");
  assert.equal(store.check(second.id, "session-1", second.pin ?? "", AT).result, "locked");

  const third = store.start("a@example.com", "session-1", "data", true, AT);
  assert.equal(store.check(third.id, "session-1", third.pin ?? "", AT).result, "ok");
  assert.equal(store.check(third.id, "session-1", third.pin ?? "", AT).result, "unknown", "a PIN works once");

  const silent = store.start("x@evil.example", "session-1", "data", false, AT);
  assert.equal(silent.pin, undefined);
  assert.equal(store.check(silent.id, "session-1", "123456", AT).result, "wrong");
});

test("outbox message is RFC 5322 with CRLF", () => {
  const text = formatMessage({ from: "edgelock Access <noreply@team.localhost>", to: "a@example.com", subject: "ログイン", body: ["code:", "    123456"], date: AT, messageIdDomain: "team.localhost" });
  assert.match(text, /^From: edgelock Access <noreply@team\.localhost>\r\nTo: a@example\.com\r\nSubject: =\?UTF-8\?B\?44Ot44Kw44Kk44Oz\?=\r\nDate: Fri, 04 Dec 2026 12:00:00 \+0000\r\nMessage-ID: <[0-9a-f]{24}@team\.localhost>\r\nMIME-Version: 1\.0\r\nContent-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncode:\r\n    123456\r\n$/);
});
