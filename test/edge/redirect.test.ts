import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { before, test } from "node:test";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { createPki, login, startEdge, temporaryFolder, writePem, type Pki } from "./fixtures.ts";

let pki: Pki;
before(async () => {
  pki = await createPki();
});

test("unauthenticated request gets the Access 302", async (t) => {
  const harness = await startEdge(t, pki);
  const app = harness.config.access.applications[0];
  assert.ok(app);
  const response = await harness.client().send(harness.client().url("app.localhost", "/reports/q1?x=1&y=2"));

  assert.equal(response.status, 302);
  const location = new URL(String(response.headers.location));
  assert.equal(location.origin, `https://team.localhost:${harness.edge.port}`);
  assert.equal(location.pathname, "/cdn-cgi/access/login/app.localhost");
  assert.match(location.searchParams.get("kid") ?? "", /^[0-9a-f]{64}$/);
  assert.equal(location.searchParams.get("redirect_url"), "/reports/q1?x=1&y=2");
  assert.match(String(response.headers.location), /redirect_url=%2Freports%2Fq1%3Fx%3D1%26y%3D2&meta=/);
  const meta = decodeJwt(location.searchParams.get("meta") ?? "");
  assert.equal(meta.type, "meta");
  assert.equal(meta.hostname, "app.localhost");
  assert.equal(decodeProtectedHeader(location.searchParams.get("meta") ?? "").alg, "RS256");

  assert.equal(response.setCookies.length, 1);
  assert.match(response.setCookies[0] ?? "", /^CF_AppSession=n[0-9a-f]{16}; Expires=[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT; Path=\/; Secure; HttpOnly$/);
  const expires = Date.parse(/Expires=([^;]+)/.exec(response.setCookies[0] ?? "")?.[1] ?? "");
  assert.ok(Math.abs(expires - (Date.now() + 86_400_000)) < 5_000, "CF_AppSession expires in 24 hours");
  assert.equal(response.headers["www-authenticate"], "Cloudflare-Access");
  assert.equal(response.headers["cache-control"], "private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0");
  assert.equal(response.headers.expires, "Thu, 01 Jan 1970 00:00:01 GMT");
  assert.equal(response.headers.server, "cloudflare");
  assert.match(String(response.headers["cf-ray"]), /^[0-9a-f]{16}-NRT$/);
  assert.equal(harness.origin.hits.length, 0, "the origin never sees an unauthenticated request");
});

test("curl over HTTP/2 sees the same 302", async (t) => {
  const harness = await startEdge(t, pki);
  const folder = temporaryFolder(t);
  const caFile = writePem(folder, "ca.pem", pki.ca.certificatePem);
  const port = harness.edge.port;
  const { stdout: output } = await promisify(execFile)("curl", ["-sS", "-D", "-", "-o", "/dev/null", "--http2", "--cacert", caFile, "--resolve", `app.localhost:${port}:127.0.0.1`, `https://app.localhost:${port}/`], { encoding: "utf8" });

  assert.match(output, /^HTTP\/2 302/);
  assert.match(output, /^location: https:\/\/team\.localhost:\d+\/cdn-cgi\/access\/login\/app\.localhost\?kid=[0-9a-f]{64}&redirect_url=%2F&meta=/m);
  assert.match(output, /^set-cookie: CF_AppSession=n[0-9a-f]{16}; /m);
  assert.match(output, /^www-authenticate: Cloudflare-Access\r?$/m);
  assert.match(output, /^server: cloudflare\r?$/m);
});

test("XHR with an expired session gets 401", async (t) => {
  const harness = await startEdge(t, pki);
  const client = harness.client();
  await login(harness, client, "alice@example.com");
  harness.advance(86_400 + 60);

  const xhr = await client.send(client.url("app.localhost", "/api"), { headers: { "x-requested-with": "XMLHttpRequest" } });
  assert.equal(xhr.status, 401);
  assert.match(String(xhr.headers["cf-access-aud"]), /^[0-9a-f]{64}$/);
  assert.equal(xhr.headers["cf-access-domain"], "app.localhost");

  const page = await client.send(client.url("app.localhost", "/api"));
  assert.equal(page.status, 302, "a browser navigation is sent to the login instead");
});

test("unsatisfiable request gets 403 with Access headers", async (t) => {
  const harness = await startEdge(t, pki, { policies: [{ name: "us-only", decision: "allow", include: [{ emailDomain: "example.com" }], require: [{ geo: "US" }] }] });
  const response = await harness.client().send(harness.client().url("app.localhost", "/"));

  assert.equal(response.status, 403);
  assert.match(String(response.headers["cf-access-aud"]), /^[0-9a-f]{64}$/);
  assert.equal(response.headers["cf-access-domain"], "app.localhost");
  assert.match(response.body, /You do not have permission to view app\.localhost/);
});

test("service-auth-only app without token gets 403 or 401", async (t) => {
  const policies = [{ name: "ci", decision: "non_identity", include: [{ serviceToken: "ci" }] }];
  const plain = await startEdge(t, pki, { policies });
  assert.equal((await plain.client().send(plain.client().url("app.localhost", "/"))).status, 403);

  const redirect401 = await startEdge(t, pki, { policies, application: { serviceAuth401Redirect: true } });
  assert.equal((await redirect401.client().send(redirect401.client().url("app.localhost", "/"))).status, 401);
});
