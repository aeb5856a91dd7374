/** The Lambda target: event mapping and response checks as the ALB documents them, with the handler in-process. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AlbEvent } from "../../src/function/alb-event.ts";
import { createRecordingLogger } from "../../src/shared/logger.ts";
import { buildAlbEvent, createLambdaTarget, readLambdaResponse, type LambdaHandler, type TargetRequest } from "../../src/targets/index.ts";
import { isTextBody, parseRawQuery } from "../../src/targets/lambda-event.ts";

const ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef";

function request(overrides: Partial<TargetRequest> = {}): TargetRequest {
  return {
    method: "GET",
    path: "/api/items",
    rawQuery: "",
    headers: [["Host", "app.example.com"]],
    body: Buffer.alloc(0),
    clientAddress: "127.0.0.1",
    clientPort: 50000,
    listener: { protocol: "https", port: 9443, httpVersion: "1.1" },
    ...overrides,
  };
}

function target(handler: LambdaHandler, options: { multiValueHeaders?: boolean; timeoutSeconds?: number; strict?: boolean } = {}) {
  const { logger, records } = createRecordingLogger();
  const created = createLambdaTarget({
    handler,
    targetGroupArn: ARN,
    multiValueHeaders: options.multiValueHeaders ?? false,
    timeoutSeconds: options.timeoutSeconds ?? 5,
    local: { strictLambdaHeadersKey: options.strict ?? false },
    logger,
  });
  return { target: created, records };
}

test("event in single-value mode", () => {
  const event = buildAlbEvent(request({ rawQuery: "q=a%20b&q=c&flag&x=1+2", headers: [["Host", "h"], ["X-Multi", "1"], ["x-multi", "2"]] }), ARN, false);

  assert.deepEqual(event, {
    requestContext: { elb: { targetGroupArn: ARN } },
    httpMethod: "GET",
    path: "/api/items",
    queryStringParameters: { q: "c", flag: "", x: "1+2" },
    headers: { host: "h", "x-multi": "2" },
    body: "",
    isBase64Encoded: false,
  });
});

test("event in multi-value mode", () => {
  const event = buildAlbEvent(request({ rawQuery: "myKey=val1&myKey=val2", headers: [["X-Multi", "1"], ["x-multi", "2"]] }), ARN, true);

  assert.deepEqual(event.multiValueQueryStringParameters, { myKey: ["val1", "val2"] });
  assert.deepEqual(event.multiValueHeaders, { "x-multi": ["1", "2"] });
  assert.equal(event.headers, undefined);
  assert.equal(event.queryStringParameters, undefined);
});

test("no query gives an empty object", () => {
  assert.deepEqual(buildAlbEvent(request(), ARN, false).queryStringParameters, {});
  assert.deepEqual(parseRawQuery(""), []);
});

const bodies: { contentType?: string; contentEncoding?: string; text: boolean }[] = [
  { contentType: "application/json", text: true },
  { contentType: "application/json; charset=utf-8", text: true },
  { contentType: "text/plain", text: true },
  { contentType: "application/xml", text: true },
  { contentType: "application/javascript", text: true },
  { contentType: "application/x-www-form-urlencoded", text: false },
  { contentType: "application/octet-stream", text: false },
  { contentType: "application/vnd.api+json", text: false },
  { contentType: "application/json", contentEncoding: "gzip", text: false },
  { text: false },
];

for (const body of bodies) {
  test(`body ${body.contentType ?? "without type"}${body.contentEncoding ? ` ${body.contentEncoding}` : ""} is ${body.text ? "text" : "base64"}`, () => {
    const headers: [string, string][] = [];
    if (body.contentType) headers.push(["Content-Type", body.contentType]);
    if (body.contentEncoding) headers.push(["Content-Encoding", body.contentEncoding]);
    const event = buildAlbEvent(request({ method: "POST", headers, body: Buffer.from('{"a":1}') }), ARN, false);

    assert.equal(isTextBody(body.contentType, body.contentEncoding), body.text);
    assert.equal(event.isBase64Encoded, !body.text);
    assert.equal(event.body, body.text ? '{"a":1}' : Buffer.from('{"a":1}').toString("base64"));
  });
}

test("response with base64 body is decoded", () => {
  const read = readLambdaResponse({ statusCode: 201, statusDescription: "201 Created", headers: { "X-A": "1", Connection: "keep-alive" }, body: Buffer.from([0, 1, 2]).toString("base64"), isBase64Encoded: true }, false, false);

  assert.deepEqual(read, { ok: true, status: 201, statusText: "Created", headers: [["X-A", "1"]], body: Buffer.from([0, 1, 2]), warnings: [] });
});

test("bare statusCode gets the standard phrase", () => {
  const read = readLambdaResponse({ statusCode: 204 }, false, false);

  assert.equal(read.ok && read.statusText, "No Content");
  assert.equal(read.ok && read.body.length, 0);
});

const invalidResults: { name: string; result: unknown; detail: string }[] = [
  { name: "a string", result: "hello", detail: "result must be a JSON object (got string)" },
  { name: "null", result: null, detail: "result must be a JSON object (got null)" },
  { name: "no statusCode", result: { body: "x" }, detail: '"statusCode" must be an integer HTTP status from 100 to 599 (got undefined)' },
  { name: "string statusCode", result: { statusCode: "200" }, detail: '"statusCode" must be an integer HTTP status from 100 to 599 (got "200")' },
  { name: "fractional statusCode", result: { statusCode: 200.5 }, detail: '"statusCode" must be an integer HTTP status from 100 to 599 (got 200.5)' },
  { name: "null statusDescription", result: { statusCode: 200, statusDescription: null }, detail: '"statusDescription" must be a string such as "200 OK" (got null)' },
  { name: "null headers", result: { statusCode: 200, headers: null }, detail: '"headers" must be an object (got null)' },
  { name: "boolean header value", result: { statusCode: 200, headers: { "x-flag": true } }, detail: '"headers.x-flag" must be a string (got true)' },
  { name: "null body", result: { statusCode: 200, body: null }, detail: '"body" must be a string; omit it for an empty body (got null)' },
];

for (const invalid of invalidResults) {
  test(`result ${invalid.name} is LambdaInvalidResponse`, () => {
    assert.deepEqual(readLambdaResponse(invalid.result, false, false), { ok: false, errorReason: "LambdaInvalidResponse", detail: invalid.detail });
  });
}

test("mismatched headers key is dropped with a warning", () => {
  const read = readLambdaResponse({ statusCode: 200, headers: { a: "1" } }, true, false);

  assert.equal(read.ok, true);
  assert.deepEqual(read.ok && read.headers, []);
  assert.deepEqual(read.ok && read.warnings, ['result has "headers", but the target group is in multi-value mode, which reads "multiValueHeaders"; "headers" was dropped']);
});

test("mismatched headers key is invalid when strict", () => {
  const read = readLambdaResponse({ statusCode: 200, multiValueHeaders: { a: ["1"] } }, false, true);

  assert.deepEqual(read, { ok: false, errorReason: "LambdaInvalidResponse", detail: 'result has "multiValueHeaders", but the target group is in single-value mode, which reads "headers"' });
});

test("multi-value headers keep every value", () => {
  const read = readLambdaResponse({ statusCode: 200, multiValueHeaders: { "Set-Cookie": ["a=1", "b=2"] } }, true, false);

  assert.deepEqual(read.ok && read.headers, [["Set-Cookie", "a=1"], ["Set-Cookie", "b=2"]]);
});

test("result over 1 MB is LambdaResponseTooLarge", () => {
  const read = readLambdaResponse({ statusCode: 200, body: "x".repeat(1024 * 1024) }, false, false);

  assert.equal(read.ok, false);
  assert.equal(!read.ok && read.errorReason, "LambdaResponseTooLarge");
});

test("target passes the event and returns the response", async () => {
  let received: AlbEvent | undefined;
  const { target: lambda } = target(async (event) => {
    received = event;
    return { statusCode: 200, headers: { "content-type": "text/plain" }, body: "ok" };
  });

  const response = await lambda.handle(request({ rawQuery: "a=b" }));

  assert.equal(received?.queryStringParameters?.a, "b");
  assert.equal(response.status, 200);
  assert.equal(response.body.toString(), "ok");
  assert.equal(response.errorReason, undefined);
});

test("callback-style handlers are supported", async () => {
  const { target: lambda } = target((_event, _context, callback) => {
    setImmediate(() => callback?.(null, { statusCode: 202 }));
  });

  assert.equal((await lambda.handle(request())).status, 202);
});

test("thrown error is 502 LambdaUnhandled", async () => {
  const { target: lambda, records } = target(async () => {
    throw new Error("boom");
  });

  const response = await lambda.handle(request());

  assert.equal(response.status, 502);
  assert.equal(response.errorReason, "LambdaUnhandled");
  assert.deepEqual(response.headers[0], ["Server", "awselb/2.0"]);
  assert.equal(records.at(-1)?.msg, "function threw an error");
  assert.equal(records.at(-1)?.error, "boom");
});

test("timeout is 502 LambdaUnhandled", async () => {
  const { target: lambda, records } = target(() => new Promise(() => {}), { timeoutSeconds: 1 });

  const response = await lambda.handle(request());

  assert.equal(response.status, 502);
  assert.equal(response.errorReason, "LambdaUnhandled");
  assert.equal(records.at(-1)?.msg, "function timed out after 1 s");
});

test("invalid response is 502 LambdaInvalidResponse", async () => {
  const { target: lambda, records } = target(async () => ({ statusCode: 200, body: null }));

  const response = await lambda.handle(request());

  assert.equal(response.status, 502);
  assert.equal(response.errorReason, "LambdaInvalidResponse");
  assert.equal(records.at(-1)?.msg, '"body" must be a string; omit it for an empty body (got null)');
});

test("request body over 1 MB is 413 without invoking", async () => {
  let invoked = false;
  const { target: lambda } = target(async () => {
    invoked = true;
    return { statusCode: 200 };
  });

  const response = await lambda.handle(request({ method: "POST", body: Buffer.alloc(1024 * 1024 + 1) }));

  assert.equal(response.status, 413);
  assert.equal(response.errorReason, "LambdaRequestTooLarge");
  assert.equal(invoked, false);
});

test("non-UTF-8 text body is 502 LambdaBadRequest", async () => {
  const { target: lambda } = target(async () => ({ statusCode: 200 }));

  const response = await lambda.handle(request({ method: "POST", headers: [["Content-Type", "text/plain"]], body: Buffer.from([0xff, 0xfe, 0x41]) }));

  assert.equal(response.status, 502);
  assert.equal(response.errorReason, "LambdaBadRequest");
});
