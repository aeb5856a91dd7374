/** Pure parts of the HTTP target: matchers, the health state machine, header rules, error mapping and option checks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { healthCheckSchema } from "../../src/config/schema/targets.ts";
import { createSilentLogger } from "../../src/shared/logger.ts";
import { classifyUpstreamError, createHttpTarget, HealthTracker, parseMatcher, type CheckResult, type HttpTargetOptions } from "../../src/targets/index.ts";
import { clientResponseHeaders, targetHostHeader, upstreamRequestHeaders } from "../../src/targets/http-headers.ts";

const SETTINGS = { path: "/health", intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2, matcher: "200" };
const PASS: CheckResult = { ok: true, status: 200 };
const FAIL: CheckResult = { ok: false, reason: "Target.Timeout", description: "Request timed out" };

test("matcher accepts codes, ranges, lists", () => {
  const cases: [string, number, boolean][] = [
    ["200", 200, true],
    ["200", 201, false],
    ["200-299", 204, true],
    ["200-299", 300, false],
    ["200,302", 302, true],
    ["200,302", 301, false],
    ["200, 300-399", 399, true],
    ["499", 499, true],
  ];
  for (const [matcher, status, expected] of cases) assert.equal(parseMatcher(matcher)(status), expected, `${matcher} with ${status}`);
});

test("matcher rejects invalid values", () => {
  const cases: [string, string][] = [
    ["2xx", 'health check "matcher" must be codes such as "200", "200-299" or "200,302" (got "2xx")'],
    ["", 'health check "matcher" must be codes such as "200", "200-299" or "200,302" (got "")'],
    ["100", 'health check "matcher" must use codes from 200 to 499 with ranges low-high (got "100" in "100")'],
    ["200,500", 'health check "matcher" must use codes from 200 to 499 with ranges low-high (got "500" in "200,500")'],
    ["299-200", 'health check "matcher" must use codes from 200 to 499 with ranges low-high (got "299-200" in "299-200")'],
  ];
  for (const [matcher, message] of cases) assert.throws(() => parseMatcher(matcher), { code: "ERR_TARGET_OPTIONS", message });
});

test("range matcher agrees with comparison", () => {
  fc.assert(
    fc.property(fc.integer({ min: 200, max: 499 }), fc.integer({ min: 200, max: 499 }), fc.integer({ min: 100, max: 599 }), (a, b, status) => {
      const [low, high] = a <= b ? [a, b] : [b, a];
      return parseMatcher(`${low}-${high}`)(status) === (status >= low && status <= high);
    }),
  );
});

test("tracker: first pass makes healthy", () => {
  const tracker = new HealthTracker(SETTINGS);
  assert.equal(tracker.state, "unused");
  assert.deepEqual(tracker.register(), { from: "unused", to: "initial", reason: "Elb.InitialHealthChecking", description: "registered; waiting for the first health check to pass" });
  assert.deepEqual(tracker.record(PASS), { from: "initial", to: "healthy", reason: undefined, description: "health check passed with 200" });
  assert.equal(tracker.reason, undefined);
});

test("tracker: thresholds in both directions", () => {
  const tracker = new HealthTracker(SETTINGS);
  tracker.register();
  tracker.record(PASS);

  assert.equal(tracker.record(FAIL), undefined);
  assert.equal(tracker.record(PASS), undefined, "a pass resets the failure count");
  assert.equal(tracker.record(FAIL), undefined);
  const down = tracker.record(FAIL);
  assert.equal(down?.to, "unhealthy");
  assert.equal(down?.reason, "Target.Timeout");
  assert.equal(down?.description, "Request timed out (2 consecutive failures, unhealthy threshold 2)");

  assert.equal(tracker.record(PASS), undefined);
  assert.equal(tracker.record(PASS), undefined);
  assert.equal(tracker.record({ ok: false, reason: "Target.ResponseCodeMismatch", description: "Health checks failed with these codes: [503]" }), undefined);
  assert.equal(tracker.reason, "Target.ResponseCodeMismatch", "the reason follows the latest failure");
  assert.equal(tracker.record(PASS), undefined);
  assert.equal(tracker.record(PASS), undefined);
  const up = tracker.record(PASS);
  assert.equal(up?.to, "healthy");
  assert.equal(up?.description, "3 consecutive health checks passed (healthy threshold 3)");
});

test("tracker: initial fails to unhealthy", () => {
  const tracker = new HealthTracker(SETTINGS);
  tracker.register();
  assert.equal(tracker.record(FAIL), undefined);
  assert.equal(tracker.state, "initial");
  assert.equal(tracker.record(FAIL)?.to, "unhealthy");
});

test("tracker: ignores results when unused", () => {
  const tracker = new HealthTracker(SETTINGS);
  assert.equal(tracker.record(PASS), undefined);
  tracker.register();
  tracker.record(PASS);
  assert.deepEqual(tracker.deregister(), { from: "healthy", to: "unused", reason: "Target.NotRegistered", description: "deregistered" });
  assert.equal(tracker.record(FAIL), undefined);
  assert.equal(tracker.state, "unused");
  assert.equal(tracker.deregister(), undefined);
});

test("host header by listener port", () => {
  const cases: [string | undefined, number, boolean, string | undefined][] = [
    ["app.localhost", 9443, false, "app.localhost:9443"],
    ["app.localhost", 443, false, "app.localhost"],
    ["app.localhost:8443", 9443, false, "app.localhost:8443"],
    ["[::1]", 9443, false, "[::1]:9443"],
    ["[::1]:8443", 9443, false, "[::1]:8443"],
    ["app.localhost", 9443, true, "app.localhost"],
    [undefined, 9443, false, undefined],
  ];
  for (const [host, port, preserve, expected] of cases) assert.equal(targetHostHeader(host, port, preserve), expected, `${host} on ${port}, preserve ${preserve}`);
});

test("request headers lose hop-by-hop", () => {
  const headers = upstreamRequestHeaders(
    [
      ["Host", "client.localhost"],
      ["Connection", "keep-alive, X-Amzn-Mtls-Clientcert-Subject"],
      ["Keep-Alive", "timeout=5"],
      ["Transfer-Encoding", "chunked"],
      ["Content-Length", "3"],
      ["Expect", "100-continue"],
      ["Upgrade", "websocket"],
      ["X-Amzn-Mtls-Clientcert-Subject", "CN=client"],
      ["Accept", "text/html"],
    ],
    "client.localhost:9443",
  );
  assert.deepEqual(headers, [
    ["host", "client.localhost:9443"],
    ["X-Amzn-Mtls-Clientcert-Subject", "CN=client"],
    ["Accept", "text/html"],
  ]);
});

test("response headers lose hop-by-hop", () => {
  const headers = clientResponseHeaders([
    ["Connection", "keep-alive, X-Hop"],
    ["X-Hop", "1"],
    ["Keep-Alive", "timeout=5"],
    ["Transfer-Encoding", "chunked"],
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ]);
  assert.deepEqual(headers, [
    ["Set-Cookie", "a=1"],
    ["Set-Cookie", "b=2"],
  ]);
});

test("upstream errors map to statuses", () => {
  const cases: [Record<string, unknown>, number, string][] = [
    [{ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:1" }, 502, "TargetConnectionError"],
    [{ code: "ECONNRESET", message: "read ECONNRESET" }, 502, "TargetConnectionError"],
    [{ code: "UND_ERR_SOCKET", message: "other side closed" }, 502, "TargetConnectionError"],
    [{ code: "UND_ERR_CONNECT_TIMEOUT", message: "Connect Timeout Error" }, 504, "TargetTimeout"],
    [{ code: "UND_ERR_HEADERS_TIMEOUT", message: "Headers Timeout Error" }, 504, "TargetTimeout"],
    [{ code: "UND_ERR_BODY_TIMEOUT", message: "Body Timeout Error" }, 504, "TargetTimeout"],
    [{ name: "HTTPParserError", message: "Response does not match the HTTP/1.1 protocol (Invalid status code)" }, 502, "TargetResponseError"],
    [{ code: "UND_ERR_HEADERS_OVERFLOW", message: "Headers Overflow Error" }, 502, "TargetResponseError"],
    [{ code: "ERR_SSL_WRONG_VERSION_NUMBER", message: "wrong version number" }, 502, "TargetTLSNegotiationError"],
    [{ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", message: "unable to verify the first certificate" }, 502, "TargetTLSNegotiationError"],
    [{ code: "ERR_TLS_CERT_ALTNAME_INVALID", message: "Hostname/IP does not match certificate's altnames" }, 502, "TargetTLSNegotiationError"],
  ];
  for (const [error, status, errorReason] of cases) {
    const result = classifyUpstreamError(error);
    assert.equal(result.status, status, String(error.message));
    assert.equal(result.errorReason, errorReason, String(error.message));
  }
  assert.equal(classifyUpstreamError({ code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:1" }).description, "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1");
});

test("options are validated on creation", () => {
  const base: HttpTargetOptions = { name: "api", url: "http://127.0.0.1:3000", healthCheck: SETTINGS, idleTimeoutSeconds: 60, logger: createSilentLogger() };
  const cases: [Partial<HttpTargetOptions>, string][] = [
    [{ url: "127.0.0.1:3000" }, 'targets.api.url must be an absolute URL such as "http://127.0.0.1:3000" (got "127.0.0.1:3000")'],
    [{ url: "not a url" }, 'targets.api.url must be an absolute URL such as "http://127.0.0.1:3000" (got "not a url")'],
    [{ url: "ftp://127.0.0.1" }, 'targets.api.url must use http: or https: (got "ftp:" in "ftp://127.0.0.1")'],
    [{ url: "http://user:pass@127.0.0.1:3000" }, "targets.api.url must not contain credentials; the ALB sends none to targets"],
    [
      { url: "http://127.0.0.1:3000/app" },
      'targets.api.url must have no path, query or fragment, because the ALB forwards the request path unchanged (got "http://127.0.0.1:3000/app"); use "http://127.0.0.1:3000"',
    ],
    [{ healthCheck: { ...SETTINGS, enabled: false } }, "targets.api.healthCheck.enabled must be true: the ALB cannot turn off health checks of instance and IP target groups"],
    [{ healthCheck: { ...SETTINGS, path: "health" } }, 'health check "path" must start with "/" (got "health")'],
    [{ healthCheck: { ...SETTINGS, intervalSeconds: 0 } }, 'health check "intervalSeconds" must be a number of seconds above 0 (got 0)'],
    [{ healthCheck: { ...SETTINGS, unhealthyThreshold: 1.5 } }, 'health check "unhealthyThreshold" must be an integer of 1 or more (got 1.5)'],
    [{ idleTimeoutSeconds: -1 }, 'targets.api: "idleTimeoutSeconds" must be a number of seconds above 0 (got -1)'],
    [{ connectTimeoutSeconds: Number.NaN }, 'targets.api: "connectTimeoutSeconds" must be a number of seconds above 0 (got NaN)'],
  ];
  for (const [override, message] of cases) assert.throws(() => createHttpTarget({ ...base, ...override }), { code: "ERR_TARGET_OPTIONS", message });

  const target = createHttpTarget(base);
  assert.equal(target.state(), "unused");
  assert.equal(target.address, "127.0.0.1:3000");
  assert.equal(createHttpTarget({ ...base, url: "https://[::1]" }).address, "[::1]:443");
});

test("healthCheck schema enforces AWS rules", () => {
  assert.deepEqual(healthCheckSchema.parse({}), { enabled: true, path: "/", intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2, matcher: "200" });
  const cases: [Record<string, unknown>, string, string][] = [
    [{ enabled: false }, "enabled", 'must be true: the ALB cannot turn off health checks of instance and IP target groups; remove "enabled"'],
    [{ intervalSeconds: 10, timeoutSeconds: 10 }, "timeoutSeconds", "must be less than intervalSeconds (got 10 with an interval of 10)"],
    [{ matcher: "500" }, "matcher", 'must use codes from 200 to 499, ranges written low-high (got "500")'],
    [{ matcher: "2xx" }, "matcher", 'must be codes such as "200", "200-299" or "200,302"'],
  ];
  for (const [input, path, message] of cases) {
    const result = healthCheckSchema.safeParse(input);
    assert.equal(result.success, false, JSON.stringify(input));
    assert.deepEqual(
      result.error?.issues.map((issue) => [issue.path.join("."), issue.message]),
      [[path, message]],
    );
  }
});
