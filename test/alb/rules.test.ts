/** Listener rule matching: tables of conditions against requests, priority order and the default action. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compileRules, hostWithoutPort, wildcardPattern, type RuleRequest } from "../../src/alb/index.ts";
import { ruleSchema, type ListenerRule, type RuleAction } from "../../src/config/schema/alb.ts";

const DEFAULT: RuleAction = { fixedResponse: { statusCode: 404, contentType: "text/plain", messageBody: "Not Found" } };

function request(overrides: Partial<RuleRequest> = {}): RuleRequest {
  return { method: "GET", path: "/", host: "app.example.com", headers: [], sourceAddress: "203.0.113.7", ...overrides };
}

function rule(priority: number, conditions: Record<string, unknown>, forward = "echo"): ListenerRule {
  return ruleSchema.parse({ priority, conditions, action: { forward } });
}

const cases: { name: string; conditions: Record<string, unknown>; request: Partial<RuleRequest>; matches: boolean }[] = [
  { name: "path * crosses segments", conditions: { pathPattern: ["/img/*"] }, request: { path: "/img/a/b.png" }, matches: true },
  { name: "path is case-sensitive", conditions: { pathPattern: ["/API/*"] }, request: { path: "/api/items" }, matches: false },
  { name: "path ? is one character", conditions: { pathPattern: ["/v?/x"] }, request: { path: "/v1/x" }, matches: true },
  { name: "path ? is not two", conditions: { pathPattern: ["/v?/x"] }, request: { path: "/v10/x" }, matches: false },
  { name: "path dot is literal", conditions: { pathPattern: ["/a.b"] }, request: { path: "/aXb" }, matches: false },
  { name: "path values are ORed", conditions: { pathPattern: ["/a", "/b"] }, request: { path: "/b" }, matches: true },
  { name: "host is case-insensitive", conditions: { hostHeader: ["APP.example.com"] }, request: { host: "app.EXAMPLE.com" }, matches: true },
  { name: "host ignores the port", conditions: { hostHeader: ["app.example.com"] }, request: { host: "app.example.com:8443" }, matches: true },
  { name: "host wildcard needs a label", conditions: { hostHeader: ["*.example.com"] }, request: { host: "example.com" }, matches: false },
  { name: "host wildcard matches a subdomain", conditions: { hostHeader: ["*.example.com"] }, request: { host: "test.example.com" }, matches: true },
  { name: "missing host never matches", conditions: { hostHeader: ["*"] }, request: { host: undefined }, matches: false },
  { name: "header name is case-insensitive", conditions: { httpHeader: [{ name: "X-Env", values: ["prod"] }] }, request: { headers: [["x-env", "PROD"]] }, matches: true },
  { name: "header value wildcard", conditions: { httpHeader: [{ name: "User-Agent", values: ["*Mobile*"] }] }, request: { headers: [["user-agent", "a Mobile b"]] }, matches: true },
  { name: "absent header does not match", conditions: { httpHeader: [{ name: "X-Env", values: ["*"] }] }, request: { headers: [] }, matches: false },
  { name: "method is exact", conditions: { httpRequestMethod: ["POST"] }, request: { method: "POST" }, matches: true },
  { name: "method is case-sensitive", conditions: { httpRequestMethod: ["POST"] }, request: { method: "post" }, matches: false },
  { name: "source IPv4 inside the block", conditions: { sourceIp: ["203.0.113.0/24"] }, request: { sourceAddress: "203.0.113.200" }, matches: true },
  { name: "source IPv4 outside the block", conditions: { sourceIp: ["203.0.113.0/24"] }, request: { sourceAddress: "198.51.100.1" }, matches: false },
  { name: "source IPv4-mapped IPv6", conditions: { sourceIp: ["127.0.0.1/32"] }, request: { sourceAddress: "::ffff:127.0.0.1" }, matches: true },
  { name: "source IPv6 block", conditions: { sourceIp: ["2001:db8::/32"] }, request: { sourceAddress: "2001:db8::5" }, matches: true },
  { name: "source bare address", conditions: { sourceIp: ["::1"] }, request: { sourceAddress: "::1" }, matches: true },
  { name: "conditions are ANDed", conditions: { pathPattern: ["/a"], httpRequestMethod: ["POST"] }, request: { path: "/a", method: "GET" }, matches: false },
];

for (const testCase of cases) {
  test(`rule ${testCase.name}`, () => {
    const match = compileRules([rule(10, testCase.conditions)], DEFAULT)(request(testCase.request));

    assert.equal(match.priority, testCase.matches ? 10 : 0);
    assert.deepEqual(match.action, testCase.matches ? { forward: "echo" } : DEFAULT);
  });
}

test("rules run in priority order", () => {
  const rules = [rule(20, { pathPattern: ["/*"] }, "second"), rule(5, { pathPattern: ["/api/*"] }, "first")];
  const match = compileRules(rules, DEFAULT);

  assert.deepEqual(match(request({ path: "/api/x" })), { action: { forward: "first" }, priority: 5 });
  assert.deepEqual(match(request({ path: "/other" })), { action: { forward: "second" }, priority: 20 });
});

test("default action answers 404 Not Found", () => {
  const match = compileRules([], DEFAULT)(request());

  assert.deepEqual(match, { action: DEFAULT, priority: 0 });
});

test("wildcard escapes regex characters", () => {
  assert.equal(wildcardPattern("/a+b(c)", false).test("/a+b(c)"), true);
  assert.equal(wildcardPattern("/a+b(c)", false).test("/aab(c)"), false);
});

test("hostWithoutPort strips ports", () => {
  assert.equal(hostWithoutPort("app.example.com:443"), "app.example.com");
  assert.equal(hostWithoutPort("[::1]:8443"), "::1");
  assert.equal(hostWithoutPort("app.example.com"), "app.example.com");
});
