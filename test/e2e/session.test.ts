/**
 * Sessions over time and across restarts. The edge's clock is moved past the app token's exp, which sends the
 * user back to the login page, or gives 401 to an XMLHttpRequest. A stack started again on the same state folder
 * reuses its CAs, certificates and signing keys, so a token issued before the restart keeps working until it
 * expires.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeJwt } from "jose";
import { headerValue, loginOverHttp, startTestStack, StackClient, type StackFixture } from "./fixtures.ts";

/** Returns a clock for the edge that the test can move forward. */
function movableClock(): { now: () => Date; moveTo(instant: number): void } {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    moveTo: (instant) => {
      offsetMs = instant - Date.now();
    },
  };
}

/** Checks that a response is the edge's 302 to the team domain's login page for app.localhost. */
function assertLoginRedirect(fixture: StackFixture, reply: { status: number; headers: Record<string, string | string[] | undefined> }): void {
  assert.equal(reply.status, 302);
  const location = new URL(String(reply.headers.location));
  assert.equal(location.origin, fixture.stack.urls.team);
  assert.equal(location.pathname, "/cdn-cgi/access/login/app.localhost");
  assert.equal(reply.headers["www-authenticate"], "Cloudflare-Access");
}

test("expired session returns to login", async (t) => {
  const clock = movableClock();
  const fixture = await startTestStack(t, { now: clock.now });
  const client = new StackClient(t, fixture.stack.prepared.localCaPem);
  const token = await loginOverHttp(fixture, client, "alice@example.com");
  const exp = decodeJwt(token).exp as number;
  const valid = await client.send(`${fixture.stack.urls.app}/page`);
  assert.equal(valid.status, 200, valid.body);

  clock.moveTo(exp * 1000 + 1000);
  const browserRequest = await client.send(`${fixture.stack.urls.app}/page`);
  const xhr = await client.send(`${fixture.stack.urls.app}/page`, { headers: { "x-requested-with": "XMLHttpRequest" } });

  assertLoginRedirect(fixture, browserRequest);
  assert.equal(new URL(String(browserRequest.headers.location)).searchParams.get("redirect_url"), "/page");
  assert.equal(xhr.status, 401);
  assert.equal(xhr.body, "Unauthorized\n");
  assert.equal(headerValue(xhr, "location"), undefined);
  // The org session on the team domain (24 h) has expired too, so the redirect ends on the email form.
  const loginPage = await client.send(String(browserRequest.headers.location));
  assert.equal(loginPage.status, 200);
  assert.match(loginPage.body, /<input id="email" name="email" type="email"/);
});

test("one second before exp still passes", async (t) => {
  const clock = movableClock();
  const fixture = await startTestStack(t, { now: clock.now });
  const client = new StackClient(t, fixture.stack.prepared.localCaPem);
  const exp = decodeJwt(await loginOverHttp(fixture, client, "alice@example.com")).exp as number;

  clock.moveTo(exp * 1000 - 1000);
  const reply = await client.send(`${fixture.stack.urls.app}/page`);

  assert.equal(reply.status, 200, reply.body);
});

test("restart reuses state and tokens", async (t) => {
  const first = await startTestStack(t);
  const client = new StackClient(t, first.stack.prepared.localCaPem);
  const token = await loginOverHttp(first, client, "bob@example.com");
  const serialsOf = (fixture: StackFixture) => ({
    mtlsCa: fixture.stack.prepared.pki.ca().serial,
    originPull: fixture.stack.prepared.originPull.info.serial,
    localCa: fixture.stack.prepared.localCa.ca().serial,
    servers: fixture.stack.prepared.localCa.list().map((info) => `${info.name}:${info.serial}`),
  });
  const before = serialsOf(first);
  const ports = { edgePort: first.stack.edge.port, listenerPort: first.stack.listener.port };
  const aud = first.stack.applications[0]?.aud;
  await first.close();

  // The same ports, because the team domain in the token's iss includes the edge's port.
  const clock = movableClock();
  const second = await startTestStack(t, { dir: first.dir, ...ports, now: clock.now });
  const reply = await client.send(`${second.stack.urls.app}/after-restart`);

  assert.deepEqual(second.stack.prepared.created, [], "nothing was created on the second start");
  assert.deepEqual(serialsOf(second), before);
  assert.equal(second.stack.prepared.localCaPem, first.stack.prepared.localCaPem);
  assert.equal(second.stack.applications[0]?.aud, aud);
  assert.equal(reply.status, 200, reply.body);
  const echo = JSON.parse(reply.body) as { event: { path: string; headers: Record<string, string> } };
  assert.equal(echo.event.path, "/after-restart");
  assert.equal(echo.event.headers["cf-access-jwt-assertion"], token);
  assert.equal(echo.event.headers["cf-access-authenticated-user-email"], "bob@example.com");

  clock.moveTo((decodeJwt(token).exp as number) * 1000 + 1000);
  assertLoginRedirect(second, await client.send(`${second.stack.urls.app}/after-restart`));
});
