/**
 * The reference deployment's three curl checks against the whole local stack, with the system curl: the
 * listener without a client certificate (no HTTP response), the listener with the origin-pull certificate (the
 * function answers), and the app through the edge (302 to the Access login).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { assertResetWithoutResponse, curl, logLine, MTLS_HEADERS, run, startTestStack, temporaryFolder, withoutAccessToken } from "./fixtures.ts";

test("listener without certificate: no HTTP response", async (t) => {
  const fixture = await startTestStack(t);
  const { urls } = fixture.stack;

  const result = await curl(["--verbose", "--cacert", fixture.files.localCa, `${urls.listener}/`]);

  assertResetWithoutResponse(result);

  const line = await logLine(fixture, "connection.log", "Failed:");
  assert.match(line, / Failed:ClientCertRejected /);
  assert.match(line, / TLSv1\.3 /);
});

test("listener with certificate: reference echo", async (t) => {
  const fixture = await startTestStack(t, { configure: withoutAccessToken });
  const folder = temporaryFolder(t);
  const headFile = join(folder, "head.txt");

  const result = await curl(["--cacert", fixture.files.localCa, "--cert", fixture.files.originPullCert, "--key", fixture.files.originPullKey, "--dump-header", headFile, `${fixture.stack.urls.listener}/`]);

  assert.equal(result.code, 0, result.stderr);
  assert.match(readFileSync(headFile, "utf8"), /^HTTP\/2 200 \r\ncontent-type: application\/json\r\n/);
  const echo = JSON.parse(result.stdout);
  assert.equal(echo.message, "Hello from Lambda!");
  assert.equal(echo.event.httpMethod, "GET");
  assert.equal(echo.event.path, "/");
  assert.equal(echo.event.requestContext.elb.targetGroupArn, "[HIDDEN]");

  const headers = echo.event.headers as Record<string, string>;
  for (const name of MTLS_HEADERS) assert.equal(typeof headers[name], "string", `${name} is present`);
  const serial = await run("openssl", ["x509", "-in", fixture.files.originPullCert, "-noout", "-serial"]);
  assert.equal(serial.code, 0, serial.stderr);
  assert.equal(headers["x-amzn-mtls-clientcert-serial-number"], serial.stdout.trim().replace(/^serial=/, ""));
  assert.equal(headers["x-amzn-mtls-clientcert-serial-number"], fixture.stack.prepared.originPull.info.serial);
  assert.equal(decodeURIComponent(headers["x-amzn-mtls-clientcert-leaf"] ?? ""), readFileSync(fixture.files.originPullCert, "utf8"));
  const names = await run("openssl", ["x509", "-in", fixture.files.originPullCert, "-noout", "-subject", "-issuer", "-nameopt", "RFC2253"]);
  assert.deepEqual(names.stdout.trim().split("\n"), [`subject=${headers["x-amzn-mtls-clientcert-subject"]}`, `issuer=${headers["x-amzn-mtls-clientcert-issuer"]}`]);
  assert.match(headers["x-amzn-mtls-clientcert-validity"] ?? "", /^NotBefore=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ;NotAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  const line = await logLine(fixture, "connection.log", " Success ");
  assert.ok(line.includes(` ${headers["x-amzn-mtls-clientcert-serial-number"]} Success `), line);
});

test("listener with certificate: token required by default", async (t) => {
  const fixture = await startTestStack(t);
  const folder = temporaryFolder(t);
  const headFile = join(folder, "head.txt");

  const result = await curl(["--cacert", fixture.files.localCa, "--cert", fixture.files.originPullCert, "--key", fixture.files.originPullKey, "--dump-header", headFile, `${fixture.stack.urls.listener}/`]);

  assert.equal(result.code, 0, result.stderr);
  assert.match(readFileSync(headFile, "utf8"), /^HTTP\/2 401 \r\n/);
  const body = JSON.parse(result.stdout);
  assert.equal(body.error, "access_token_invalid");
  assert.equal(body.reason, "no Access token: the request has no Cf-Access-Jwt-Assertion header and no CF_Authorization cookie");
});

test("app through the edge: 302 to login", async (t) => {
  const fixture = await startTestStack(t);
  const { urls, edge, applications } = fixture.stack;

  const result = await curl(["--include", "--cacert", fixture.files.localCa, `${urls.app}/`]);

  assert.equal(result.code, 0, result.stderr);
  const head = result.stdout.slice(0, result.stdout.indexOf("\r\n\r\n"));
  assert.match(head, /^HTTP\/2 302 \r\n/);
  const location = /^location: (.*)\r$/m.exec(head)?.[1] ?? "";
  const login = new URL(location);
  assert.equal(login.origin, `https://team.localhost:${edge.port}`);
  assert.equal(login.pathname, "/cdn-cgi/access/login/app.localhost");
  assert.equal(login.searchParams.get("kid"), applications[0]?.aud);
  assert.equal(login.searchParams.get("redirect_url"), "/");
  assert.match(login.searchParams.get("meta") ?? "", /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.match(head, /^www-authenticate: Cloudflare-Access\r$/m);
  assert.match(head, /^set-cookie: CF_AppSession=n[0-9a-f]{16}; Expires=[^;]+; Path=\/; Secure; HttpOnly\r$/m);
  assert.match(head, /^cf-ray: [0-9a-f]{16}-NRT\r$/m);
});
