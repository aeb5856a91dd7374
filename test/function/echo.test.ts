/** The echo function: the greeting with the event, the hidden target-group ARN, and the Access check. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AccessError } from "../../src/access/errors.ts";
import type { AlbEvent } from "../../src/function/alb-event.ts";
import { createEchoHandler, ECHO_MESSAGE } from "../../src/function/echo.ts";
import { loadAccessVerifier } from "../../src/function/index.ts";

const ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/echo/0123456789abcdef";

function event(overrides: Partial<AlbEvent> = {}): AlbEvent {
  return {
    requestContext: { elb: { targetGroupArn: ARN } },
    httpMethod: "GET",
    path: "/",
    queryStringParameters: {},
    headers: { host: "app.example.com" },
    body: "",
    isBase64Encoded: false,
    ...overrides,
  };
}

test("echo returns the event with the ARN hidden", async () => {
  const result = await createEchoHandler()(event());

  assert.equal(result.statusCode, 200);
  assert.deepEqual(result.headers, { "content-type": "application/json" });
  const body = JSON.parse(result.body ?? "");
  assert.equal(body.message, ECHO_MESSAGE);
  assert.equal(body.event.requestContext.elb.targetGroupArn, "[HIDDEN]");
  assert.equal(body.event.headers.host, "app.example.com");
  assert.doesNotMatch(result.body ?? "", /targetgroup\/echo/);
});

test("echo answers multi-value events with multiValueHeaders", async () => {
  const result = await createEchoHandler()(event({ headers: undefined, queryStringParameters: undefined, multiValueHeaders: { host: ["a"] }, multiValueQueryStringParameters: {} }));

  assert.deepEqual(result.multiValueHeaders, { "content-type": ["application/json"] });
  assert.equal(result.headers, undefined);
});

test("failed Access check answers 401", async () => {
  let seen: unknown;
  const handler = createEchoHandler({
    verifyAccess: async (headers) => {
      seen = headers;
      return { ok: false, reason: "token expired" };
    },
  });

  const result = await handler(event({ headers: { "cf-access-jwt-assertion": "x.y.z" } }));

  assert.equal(result.statusCode, 401);
  assert.deepEqual(JSON.parse(result.body ?? ""), { error: "access_token_invalid", reason: "token expired" });
  assert.deepEqual(seen, { "cf-access-jwt-assertion": "x.y.z" });
});

test("passed Access check answers 200", async () => {
  const result = await createEchoHandler({ verifyAccess: async () => ({ ok: true, identity: { email: "a@example.com" } }) })(event());

  assert.equal(result.statusCode, 200);
});

test("verifier is off when REQUIRE_ACCESS_TOKEN is false", () => {
  assert.equal(loadAccessVerifier({ REQUIRE_ACCESS_TOKEN: "false" }), undefined);
});

test("missing TEAM_DOMAIN fails closed", () => {
  assert.throws(
    () => loadAccessVerifier({ ACCESS_AUD: "a".repeat(64) }),
    (error: unknown) => error instanceof AccessError && error.code === "ERR_ACCESS_CONFIG" && /teamDomain/.test(error.message),
  );
});

test("request without a token fails the check", async () => {
  const verifyAccess = loadAccessVerifier({ TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: "a".repeat(64) });

  const check = await verifyAccess?.({ host: "app.example.com" });

  assert.deepEqual(check, { ok: false, reason: "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie" });
});

test("missing ACCESS_AUD fails closed", () => {
  assert.throws(
    () => loadAccessVerifier({ TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: " , " }),
    (error: unknown) => error instanceof AccessError && error.code === "ERR_ACCESS_CONFIG" && /audience/.test(error.message),
  );
});

test("comma-separated ACCESS_AUD is accepted", async () => {
  const verifyAccess = loadAccessVerifier({ TEAM_DOMAIN: "acme.cloudflareaccess.com", ACCESS_AUD: `${"a".repeat(64)},${"b".repeat(64)}` });

  const check = await verifyAccess?.({ host: "app.example.com" });

  assert.equal(check?.ok, false);
});
