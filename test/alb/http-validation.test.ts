/** Request checks: desync classification tables, and the listener's responses on the wire with Server: awselb/2.0. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { classifyParserError, classifyRequest, desyncAction, dropInvalidHeaderFields, hasUnsupportedTransferEncoding } from "../../src/alb/index.ts";
import { createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { createServerPki, exchange, HOST, logLine, startListener, trustStoreOf, type RunningListener, type ServerPki } from "./fixtures.ts";

let pki: ServerPki;
let root: IssuedCertificate;
let client: IssuedCertificate;

before(async () => {
  pki = await createServerPki();
  root = await createRootCa({ commonName: "validation root" });
  client = await issueLeaf(root, { profile: "client", subject: { commonName: "validation client" } });
});

const classifications: { name: string; method: string; headers: [string, string][]; expected: [string, string | undefined] }[] = [
  { name: "plain GET", method: "GET", headers: [["Host", "a"]], expected: ["Compliant", undefined] },
  { name: "GET with Content-Length 0", method: "GET", headers: [["Content-Length", "0"]], expected: ["Acceptable", "GetHeadZeroContentLength"] },
  { name: "GET with a body length", method: "GET", headers: [["Content-Length", "5"]], expected: ["Ambiguous", "UndefinedContentLengthSemantics"] },
  { name: "HEAD with Transfer-Encoding", method: "HEAD", headers: [["Transfer-Encoding", "chunked"]], expected: ["Ambiguous", "UndefinedTransferEncodingSemantics"] },
  { name: "empty header", method: "POST", headers: [["X-Empty", ""]], expected: ["Ambiguous", "EmptyHeader"] },
  { name: "underscore lookalike", method: "POST", headers: [["Transfer_Encoding", "chunked"]], expected: ["Ambiguous", "SuspiciousHeader"] },
  { name: "obs-text value", method: "POST", headers: [["X-Name", "caf\u00e9"]], expected: ["Acceptable", "NonCompliantHeader"] },
  { name: "same Content-Length twice", method: "POST", headers: [["Content-Length", "1"], ["content-length", "1"]], expected: ["Ambiguous", "DuplicateContentLength"] },
  { name: "different Content-Lengths", method: "POST", headers: [["Content-Length", "1"], ["Content-Length", "2"]], expected: ["Severe", "MultipleContentLength"] },
  { name: "both TE and CL", method: "POST", headers: [["Content-Length", "1"], ["Transfer-Encoding", "chunked"]], expected: ["Ambiguous", "BothTeClPresent"] },
];

for (const testCase of classifications) {
  test(`classify ${testCase.name}`, () => {
    const result = classifyRequest(testCase.method, testCase.headers);

    assert.deepEqual([result.classification, result.reason], testCase.expected);
  });
}

test("desync actions follow the mode table", () => {
  const table = (["monitor", "defensive", "strictest"] as const).map((mode) =>
    (["Compliant", "Acceptable", "Ambiguous", "Severe"] as const).map((level) => desyncAction(mode, level)),
  );

  assert.deepEqual(table, [
    ["allow", "allow", "allow", "allow"],
    ["allow", "allow", "allow-and-close", "block"],
    ["allow", "block", "block", "block"],
  ]);
});

test("parser errors map to ALB answers", () => {
  assert.deepEqual(classifyParserError({ code: "HPE_INVALID_TRANSFER_ENCODING", reason: "Transfer-Encoding can't be present with Content-Length" }), { status: 400, classification: "Ambiguous", reason: "BothTeClPresent" });
  assert.deepEqual(classifyParserError({ code: "HPE_INVALID_TRANSFER_ENCODING", reason: "Request has invalid `Transfer-Encoding`" }), { status: 501, classification: "Severe", reason: "BadTransferEncoding" });
  assert.deepEqual(classifyParserError({ code: "HPE_UNEXPECTED_CONTENT_LENGTH", rawPacket: Buffer.from("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n") }), { status: 400, classification: "Ambiguous", reason: "DuplicateContentLength" });
  assert.deepEqual(classifyParserError({ code: "HPE_UNEXPECTED_CONTENT_LENGTH", rawPacket: Buffer.from("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") }), { status: 400, classification: "Severe", reason: "MultipleContentLength" });
  assert.deepEqual(classifyParserError({ code: "HPE_INVALID_METHOD" }), { status: 400, classification: "Severe", reason: "BadMethod" });
});

test("invalid header names are dropped", () => {
  assert.deepEqual(dropInvalidHeaderFields([["X_Under", "1"], ["X-Ok", "2"], ["x.dot", "3"]]), [["X-Ok", "2"]]);
});

test("unsupported Transfer-Encoding is detected", () => {
  assert.equal(hasUnsupportedTransferEncoding([["Transfer-Encoding", "gzip, chunked"]]), true);
  assert.equal(hasUnsupportedTransferEncoding([["Transfer-Encoding", "chunked"]]), false);
});

async function send(running: RunningListener, request: string): Promise<string> {
  const seen = await exchange(running.listener.port, pki, { certPem: client.certificatePem, keyPem: client.privateKeyPem, request });
  return seen.response;
}

function statusLine(response: string): string {
  return response.split("\r\n")[0] ?? "";
}

test("TRACE gets 405 from the load balancer", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `TRACE / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 405 Method Not Allowed");
  assert.match(response, /\r\nServer: awselb\/2\.0\r\n/);
  assert.equal(running.invocations(), 0);
});

test("gzip Transfer-Encoding gets 501", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: gzip\r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 501 Not Implemented");
  assert.match(response, /\r\nServer: awselb\/2\.0\r\n/);
  await logLine(running.logDir, "access.log", '"Severe" "BadTransferEncoding"');
});

test("both TE and CL get 400", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 400 Bad Request");
  assert.equal(running.invocations(), 0);
  await logLine(running.logDir, "access.log", '"Ambiguous" "BothTeClPresent"');
});

test("duplicate Content-Length gets 400", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `POST / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx`);

  assert.equal(statusLine(response), "HTTP/1.1 400 Bad Request");
  await logLine(running.logDir, "access.log", '"DuplicateContentLength"');
});

test("strictest mode blocks an acceptable request", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { attributes: { desyncMitigationMode: "strictest" } } });

  const response = await send(running, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 400 Bad Request");
  assert.equal(running.invocations(), 0);
});

test("defensive mode routes an ambiguous request and closes", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Empty: \r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 200 OK");
  assert.match(response, /\r\nConnection: close\r\n/i);
  assert.equal(running.invocations(), 1);
});

test("default action answers 404 Not Found", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root), alb: { rules: [{ priority: 1, conditions: { pathPattern: ["/app/*"] }, action: { forward: "echo" } }] } });

  const response = await send(running, `GET /elsewhere HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);

  assert.equal(statusLine(response), "HTTP/1.1 404 Not Found");
  assert.match(response, /\r\nServer: awselb\/2\.0\r\n/);
  assert.match(response, /\r\n\r\nNot Found$/);
  const line = await logLine(running.logDir, "access.log", "/elsewhere");
  assert.match(line, / 404 - .* 0 \S+ "fixed-response" /);
});

test("invalid header names never reach the target", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });

  const response = await send(running, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX_Under: 1\r\nConnection: close\r\n\r\n`);

  const body = JSON.parse(response.split("\r\n\r\n")[1] ?? "{}");
  assert.equal(body.event.headers.x_under, undefined);
});

test("more than 30 forwarded addresses get 463", async (t) => {
  const running = await startListener(t, { pki, trustStore: trustStoreOf(root) });
  const addresses = Array.from({ length: 30 }, (_, index) => `198.51.100.${index + 1}`).join(", ");

  const response = await send(running, `GET / HTTP/1.1\r\nHost: ${HOST}\r\nX-Forwarded-For: ${addresses}\r\nConnection: close\r\n\r\n`);

  assert.equal(statusLine(response).slice(0, 12), "HTTP/1.1 463");
  assert.equal(running.invocations(), 0);
});
