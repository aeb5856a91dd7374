import assert from "node:assert/strict";
import { test } from "node:test";
import { couldEmailBeAllowed, evaluatePolicies, type PolicyContext } from "../../src/access/index.ts";
import { compileApp } from "./fixtures.ts";

const JP: PolicyContext = { ip: "198.51.100.7", country: "JP" };

function identity(app: ReturnType<typeof compileApp>, email: string, context: PolicyContext = JP): string {
  const result = evaluatePolicies(app, { ...context, email }, "identity");
  return result.policy === undefined ? result.decision : `${result.decision}:${result.policy.name}`;
}

function request(app: ReturnType<typeof compileApp>, context: PolicyContext = JP): string {
  const result = evaluatePolicies(app, context, "request");
  return result.policy === undefined ? result.decision : `${result.decision}:${result.policy.name}`;
}

test("email selector cases", () => {
  const app = compileApp([{ name: "alice", decision: "allow", include: [{ email: "alice@example.com" }] }]);
  const cases: [string, string][] = [
    ["alice@example.com", "allow:alice"],
    ["Alice@Example.COM", "allow:alice"],
    ["alice+dev@example.com", "deny"],
    ["alice@example.com.evil.test", "deny"],
    ["xalice@example.com", "deny"],
    ["alice@sub.example.com", "deny"],
    [" alice@example.com", "deny"],
    ["", "deny"],
  ];
  for (const [email, expected] of cases) assert.equal(identity(app, email), expected, email);
});

test("email selector case-sensitive setting", () => {
  const app = compileApp([{ name: "alice", decision: "allow", include: [{ email: "alice@example.com" }] }], {
    emailMatching: { caseSensitive: true },
  });
  assert.equal(identity(app, "alice@example.com"), "allow:alice");
  assert.equal(identity(app, "Alice@example.com"), "deny");
});

test("email domain selector cases", () => {
  const app = compileApp([{ name: "domain", decision: "allow", include: [{ emailDomain: "example.com" }] }]);
  const cases: [string, string][] = [
    ["bob@example.com", "allow:domain"],
    ["bob@EXAMPLE.com", "allow:domain"],
    ["bob+tag@example.com", "allow:domain"],
    ["odd@name@example.com", "allow:domain"],
    ["bob@example.com@evil.test", "deny"],
    ["bob@sub.example.com", "deny"],
    ["bob@notexample.com", "deny"],
    ["bob@evil-example.com", "deny"],
    ["bob@example.com.evil.test", "deny"],
    ["bob@example.co", "deny"],
    ["@example.com", "deny"],
    ["example.com", "deny"],
  ];
  for (const [email, expected] of cases) assert.equal(identity(app, email), expected, email);
});

test("email domain subdomain setting", () => {
  const app = compileApp([{ name: "domain", decision: "allow", include: [{ emailDomain: "example.com" }] }], {
    emailMatching: { domainMatchesSubdomains: true },
  });
  assert.equal(identity(app, "bob@dev.example.com"), "allow:domain");
  assert.equal(identity(app, "bob@a.b.example.com"), "allow:domain");
  assert.equal(identity(app, "bob@notexample.com"), "deny");
  assert.equal(identity(app, "bob@example.com.evil.test"), "deny");
});

test("ip selector cases", () => {
  const app = compileApp([
    { name: "office-v4", decision: "bypass", include: [{ ip: "203.0.113.0/24" }] },
    { name: "office-v6", decision: "bypass", include: [{ ip: "2001:db8:1::/48" }] },
    { name: "mapped", decision: "bypass", include: [{ ip: "::ffff:192.0.2.0/120" }] },
    { name: "host", decision: "bypass", include: [{ ip: "198.18.0.1" }] },
    { name: "allow", decision: "allow", include: [{ emailDomain: "example.com" }] },
  ]);
  const cases: [string, string][] = [
    ["203.0.113.9", "bypass:office-v4"],
    ["::ffff:203.0.113.9", "bypass:office-v4"],
    ["::FFFF:cb00:7109", "bypass:office-v4"],
    ["203.0.114.1", "login:allow"],
    ["2001:db8:1:ffff::1", "bypass:office-v6"],
    ["2001:DB8:0001::abcd", "bypass:office-v6"],
    ["2001:db8:2::1", "login:allow"],
    ["fe80::1%eth0", "login:allow"],
    ["192.0.2.200", "bypass:mapped"],
    ["198.18.0.1", "bypass:host"],
    ["198.18.0.2", "login:allow"],
    ["not-an-address", "login:allow"],
  ];
  for (const [ip, expected] of cases) assert.equal(request(app, { ip, country: "JP" }), expected, ip);
});

test("ipv6 block never matches ipv4", () => {
  const app = compileApp([
    { name: "all-v6", decision: "bypass", include: [{ ip: "::/0" }] },
    { name: "allow", decision: "allow", include: [{ everyone: true }] },
  ]);
  assert.equal(request(app, { ip: "203.0.113.9", country: "JP" }), "login:allow");
  assert.equal(request(app, { ip: "::ffff:203.0.113.9", country: "JP" }), "login:allow");
  assert.equal(request(app, { ip: "2001:db8::1", country: "JP" }), "bypass:all-v6");
});

test("geo and everyone selectors", () => {
  const app = compileApp([
    { name: "block-kp", decision: "deny", include: [{ geo: "KP" }] },
    { name: "everyone", decision: "allow", include: [{ everyone: true }] },
  ]);
  assert.equal(request(app, { ip: "192.0.2.1", country: "KP" }), "forbidden:block-kp");
  assert.equal(request(app, { ip: "192.0.2.1", country: "kp" }), "forbidden:block-kp");
  assert.equal(request(app, { ip: "192.0.2.1", country: "JP" }), "login:everyone");
  assert.equal(identity(app, "anyone@anywhere.test", { ip: "192.0.2.1", country: "JP" }), "allow:everyone");
});

test("service token selectors", () => {
  const app = compileApp(
    [
      { name: "ci-only", decision: "non_identity", include: [{ serviceToken: "ci" }] },
      { name: "any-token", decision: "non_identity", include: [{ anyValidServiceToken: true }], require: [{ geo: "JP" }] },
    ],
    { serviceTokens: ["ci", "monitor"] },
  );
  assert.equal(request(app, { ...JP, serviceToken: { name: "ci" } }), "service:ci-only");
  assert.equal(request(app, { ...JP, serviceToken: { name: "monitor" } }), "service:any-token");
  assert.equal(request(app, { ip: "192.0.2.1", country: "US", serviceToken: { name: "monitor" } }), "forbidden");
  assert.equal(request(app, JP), "forbidden");
  assert.equal(app.serviceAuthOnly, true);
});

test("require needs every selector", () => {
  const app = compileApp([
    { name: "jp-staff", decision: "allow", include: [{ emailDomain: "example.com" }], require: [{ geo: "JP" }, { ip: "198.51.100.0/24" }] },
  ]);
  assert.equal(identity(app, "a@example.com"), "allow:jp-staff");
  assert.equal(identity(app, "a@example.com", { ip: "198.51.100.7", country: "US" }), "deny");
  assert.equal(identity(app, "a@example.com", { ip: "192.0.2.1", country: "JP" }), "deny");
  assert.equal(request(app, { ip: "192.0.2.1", country: "JP" }), "forbidden");
  assert.equal(request(app), "login:jp-staff");
});

test("require with two countries matches nobody", () => {
  const app = compileApp([{ name: "two", decision: "allow", include: [{ everyone: true }], require: [{ geo: "JP" }, { geo: "US" }] }]);
  assert.equal(request(app), "forbidden");
  assert.equal(identity(app, "a@example.com"), "deny");
});

test("require with two emails matches nobody", () => {
  const app = compileApp([
    { name: "two", decision: "allow", include: [{ everyone: true }], require: [{ email: "a@example.com" }, { email: "b@example.com" }] },
  ]);
  assert.equal(request(app), "forbidden");
  assert.equal(identity(app, "a@example.com"), "deny");
});

test("require email with its domain", () => {
  const app = compileApp([
    { name: "pair", decision: "allow", include: [{ everyone: true }], require: [{ email: "a@example.com" }, { emailDomain: "example.com" }] },
    { name: "clash", decision: "allow", include: [{ everyone: true }], require: [{ email: "a@example.com" }, { emailDomain: "example.net" }] },
  ]);
  assert.equal(request(app), "login:pair");
  assert.equal(identity(app, "a@example.com"), "allow:pair");
  assert.equal(identity(app, "b@example.com"), "deny");
});

test("exclude removes a match", () => {
  const app = compileApp([
    { name: "staff", decision: "allow", include: [{ emailDomain: "example.com" }], exclude: [{ email: "mallory@example.com" }, { geo: "KP" }] },
  ]);
  assert.equal(identity(app, "alice@example.com"), "allow:staff");
  assert.equal(identity(app, "Mallory@example.com"), "deny");
  assert.equal(identity(app, "alice@example.com", { ip: "192.0.2.1", country: "KP" }), "deny");
  assert.equal(request(app, { ip: "192.0.2.1", country: "KP" }), "forbidden");
  assert.equal(request(app), "login:staff");
});

test("cloudflare's documented order", () => {
  // Allow A, Block B, Service Auth C, Bypass D, Allow E must run as C > D > A > B > E.
  const app = compileApp(
    [
      { name: "A", decision: "allow", include: [{ email: "a@example.com" }] },
      { name: "B", decision: "deny", include: [{ emailDomain: "example.com" }] },
      { name: "C", decision: "non_identity", include: [{ serviceToken: "ci" }] },
      { name: "D", decision: "bypass", include: [{ ip: "203.0.113.0/24" }] },
      { name: "E", decision: "allow", include: [{ everyone: true }] },
    ],
    { serviceTokens: ["ci"] },
  );
  assert.equal(request(app, { ip: "203.0.113.5", country: "JP", serviceToken: { name: "ci" } }), "service:C");
  assert.equal(request(app, { ip: "203.0.113.5", country: "JP" }), "bypass:D");
  assert.equal(request(app), "login:A");
  assert.equal(identity(app, "a@example.com"), "allow:A");
  assert.equal(identity(app, "b@example.com"), "deny:B");
  assert.equal(identity(app, "c@example.net"), "allow:E");
});

test("identity phase ignores bypass policies", () => {
  const app = compileApp([
    { name: "office", decision: "bypass", include: [{ ip: "203.0.113.0/24" }] },
    { name: "members", decision: "allow", include: [{ email: "a@example.com" }] },
  ]);
  assert.equal(identity(app, "z@example.com", { ip: "203.0.113.5", country: "JP" }), "deny");
});

test("request phase ignores a supplied email", () => {
  const app = compileApp([{ name: "members", decision: "allow", include: [{ email: "a@example.com" }] }]);
  assert.equal(request(app, { ...JP, email: "z@example.com" }), "login:members");
});

test("deny everyone first is forbidden", () => {
  const app = compileApp([
    { name: "nobody", decision: "deny", include: [{ everyone: true }] },
    { name: "members", decision: "allow", include: [{ emailDomain: "example.com" }] },
  ]);
  assert.equal(request(app), "forbidden:nobody");
  assert.equal(couldEmailBeAllowed(app, "a@example.com", JP), false);
});

test("deny by email still allows login", () => {
  const app = compileApp([
    { name: "blocked", decision: "deny", include: [{ email: "mallory@example.com" }] },
    { name: "members", decision: "allow", include: [{ emailDomain: "example.com" }] },
  ]);
  assert.equal(request(app), "login:members");
  assert.equal(couldEmailBeAllowed(app, "alice@example.com", JP), true);
  assert.equal(couldEmailBeAllowed(app, "mallory@example.com", JP), false);
  assert.equal(couldEmailBeAllowed(app, "eve@example.net", JP), false);
});

test("policy session duration is compiled", () => {
  const app = compileApp([
    { name: "short", decision: "allow", include: [{ email: "a@example.com" }], sessionDuration: "30m" },
    { name: "default", decision: "allow", include: [{ emailDomain: "example.com" }] },
  ]);
  assert.equal(app.sessionSeconds, 86_400);
  assert.equal(app.policies[0]?.sessionSeconds, 1800);
  assert.equal(app.policies[1]?.sessionSeconds, undefined);
  assert.deepEqual(app.policies.map((policy) => policy.precedence), [1, 2]);
});

test("context has no forwarded address field", () => {
  // The socket address decides; a forwarded header value cannot reach the engine through the context type.
  const app = compileApp([
    { name: "office", decision: "bypass", include: [{ ip: "203.0.113.0/24" }] },
    { name: "members", decision: "allow", include: [{ email: "a@example.com" }] },
  ]);
  const spoofed = { ip: "192.0.2.1", country: "JP", "x-forwarded-for": "203.0.113.5", xForwardedFor: "203.0.113.5" } as PolicyContext;
  assert.equal(request(app, spoofed), "login:members");
});
