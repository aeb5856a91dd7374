/**
 * The whole local path with an HTTP backend: a user logs in through the local edge with a one-time PIN, the edge
 * pulls from the listener with its client certificate, and a plain node:http backend behind an HTTP target checks
 * the Access token with edgelock's middleware and receives the ALB's headers.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Agent, buildConnector, fetch as undiciFetch, request } from "undici";
import type { FetchLike } from "../../src/access/index.ts";
import { defaultConfigInput, parseConfig, type EdgelockConfigInput } from "../../src/config/index.ts";
import { accessMiddleware, type AccessMiddleware, type AccessRequest } from "../../src/middleware/index.ts";
import { createRecordingLogger } from "../../src/shared/logger.ts";
import { startStack, type RunningStack } from "../../src/stack/stack.ts";
import { createHttpTarget } from "../../src/targets/index.ts";
import { EdgeClient, hiddenField } from "../edge/fixtures.ts";

/** What the backend saw on one request that passed the middleware. */
interface BackendHit {
  url: string;
  email: string | undefined;
  headers: IncomingMessage["headers"];
}

/** Returns an undici Agent that trusts the stack's local CA and connects every name to 127.0.0.1. */
function localAgent(caPem: string, client?: { certPem: string; keyPem: string }): Agent {
  const connector = buildConnector({ ca: caPem, ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }) });
  return new Agent({ connect: (options, callback) => connector({ ...options, hostname: "127.0.0.1" }, callback) });
}

test("login reaches the HTTP backend", async (t) => {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-e2e-http-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));

  // The middleware needs the edge's port for the team domain, so it is built on the first request.
  let stack: RunningStack | undefined;
  let guard: AccessMiddleware | undefined;
  let jwksAgent: Agent | undefined;
  const hits: BackendHit[] = [];
  const healthChecks: string[] = [];
  const server: Server = createServer((incoming, response) => {
    if (incoming.url === "/health") {
      healthChecks.push(String(incoming.headers["user-agent"]));
      response.end("ok");
      return;
    }
    if (stack === undefined) {
      response.writeHead(503).end();
      return;
    }
    if (guard === undefined) {
      jwksAgent = localAgent(stack.prepared.localCaPem);
      const agent = jwksAgent;
      const fetch: FetchLike = (url, init) => undiciFetch(url, { ...init, dispatcher: agent }) as unknown as ReturnType<FetchLike>;
      guard = accessMiddleware({ teamDomain: new URL(stack.urls.team).host, audience: stack.applications.map((application) => application.aud), fetch });
    }
    guard(incoming, response, () => {
      const identity = (incoming as AccessRequest).accessIdentity;
      hits.push({ url: incoming.url ?? "", email: identity?.kind === "user" ? identity.email : undefined, headers: incoming.headers });
      response.writeHead(200, { "content-type": "text/plain" }).end(`hello ${identity?.kind === "user" ? identity.email : "service"}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    await jwksAgent?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const backendUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const input: EdgelockConfigInput = {
    ...defaultConfigInput(),
    alb: { rules: [{ priority: 10, conditions: { pathPattern: ["/*"] }, action: { forward: "app" } }] },
    targets: { app: { type: "http", url: backendUrl, healthCheck: { path: "/health" } } },
    local: { stateDir: join(folder, "state") },
  };
  delete input.$schema;
  const config = parseConfig(input);
  const { logger, records } = createRecordingLogger();
  const pins: string[] = [];
  stack = await startStack(
    { config, file: join(folder, "edgelock.config.json"), baseDir: folder },
    {
      logger,
      edgePort: 0,
      listenerPort: 0,
      onPinSent: (_email, pin) => pins.push(pin),
      createHttpTarget: (name, target) => {
        const http = createHttpTarget({ name, url: target.url, healthCheck: target.healthCheck, idleTimeoutSeconds: config.alb.attributes.idleTimeoutSeconds, preserveHostHeader: config.alb.attributes.preserveHostHeader, logger });
        return { target: http, start: () => http.start(), stop: () => http.stop() };
      },
    },
  );
  const running = stack;
  t.after(() => running.close());
  assert.deepEqual(healthChecks, ["ELB-HealthChecker/2.0"], "the target was checked once before traffic");
  assert.ok(records.some((record) => record.target === "app" && record.to === "healthy"));

  const browserAgent = localAgent(stack.prepared.localCaPem);
  t.after(() => browserAgent.close());
  const browser = new EdgeClient(browserAgent, new URL(stack.urls.app).port === "" ? 443 : Number(new URL(stack.urls.app).port));
  const appHost = new URL(stack.urls.app).hostname;

  const first = await browser.follow(browser.url(appHost, "/reports?year=2026"));
  const loginUrl = String(first[0]?.headers.location);
  assert.match(loginUrl, /\/cdn-cgi\/access\/login\//);
  const pinPage = await browser.send(loginUrl, { form: { step: "email", email: "alice@example.com" } });
  assert.equal(pins.length, 1);
  const done = await browser.follow(loginUrl, { form: { step: "pin", flow: hiddenField(pinPage.body, "flow"), pin: pins[0] ?? "" } });

  const last = done.at(-1);
  assert.equal(last?.status, 200);
  assert.equal(last?.body, "hello alice@example.com");
  const hit = hits.at(-1);
  assert.equal(hit?.url, "/reports?year=2026");
  assert.equal(hit?.email, "alice@example.com");
  assert.equal(hit?.headers["cf-access-authenticated-user-email"], "alice@example.com");
  assert.equal(hit?.headers["x-amzn-mtls-clientcert-subject"], stack.prepared.originPull.info.subject.split(", ").reverse().join(","));
  assert.equal(hit?.headers["x-amzn-mtls-clientcert-serial-number"], stack.prepared.originPull.info.serial);
  assert.match(String(hit?.headers["x-amzn-mtls-clientcert-leaf"]), /^-----BEGIN%20CERTIFICATE-----%0A/);
  assert.match(String(hit?.headers["x-amzn-mtls-clientcert-validity"]), /^NotBefore=.+Z;NotAfter=.+Z$/);
  assert.equal(hit?.headers["x-forwarded-proto"], "https");
  assert.equal(hit?.headers["x-forwarded-port"], String(stack.listener.port));
  assert.match(String(hit?.headers["x-amzn-trace-id"]), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  assert.ok(hit?.headers["cf-ray"] !== undefined, "the edge's Cf-Ray reached the backend");

  // A caller with the origin-pull certificate but no token passes the listener and is stopped by the backend.
  const direct = localAgent(stack.prepared.localCaPem, { certPem: stack.prepared.originPull.certPem, keyPem: stack.prepared.originPull.keyPem });
  t.after(() => direct.close());
  const skipped = await request(`${stack.urls.listener}/reports`, { dispatcher: direct });
  assert.equal(skipped.statusCode, 401);
  assert.equal((JSON.parse(await skipped.body.text()) as { error: string }).error, "access_token_missing");
});
