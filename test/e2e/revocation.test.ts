/**
 * Revoking the origin-pull client certificate cuts the edge off from the origin. The listener checks client
 * certificates only during the handshake, as an ALB does, so the edge's open connection keeps working until it
 * goes idle. The test therefore waits until the listener has closed it, and the edge's next origin
 * connection is rejected (525). A stack started again on the same state folder rejects the revoked certificate.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { StackError } from "../../src/stack/bootstrap.ts";
import { assertResetWithoutResponse, curl, headerValue, logLine, loginOverHttp, startTestStack, StackClient, waitFor } from "./fixtures.ts";

test("revoked origin pull gives 525", async (t) => {
  // An idle timeout of 1 s makes the listener close the edge's pooled connection soon after the last request.
  const fixture = await startTestStack(t, { configure: (input) => (input.alb = { attributes: { idleTimeoutSeconds: 1 } }) });
  const { stack } = fixture;
  const client = new StackClient(t, stack.prepared.localCaPem);
  await loginOverHttp(fixture, client, "alice@example.com");
  const before = await client.send(`${stack.urls.app}/before`);
  assert.equal(before.status, 200, before.body);
  const { serial, name } = stack.prepared.originPull.info;

  const revoked = await stack.prepared.pki.revoke(name);
  await stack.prepared.pki.writeCrl();
  const trustStore = stack.reloadTrustStore();
  await waitFor("the listener to close the idle origin connection", () => stack.listener.connections === 0);
  const after = await client.send(`${stack.urls.app}/after`);

  assert.equal(revoked.serial, serial);
  assert.equal(trustStore.revocationLists.length, 1);
  assert.equal(after.status, 525);
  assert.match(after.body, /<h1>Error 525: SSL handshake failed<\/h1>/);
  assert.match(headerValue(after, "cf-ray") ?? "", /^[0-9a-f]{16}-NRT$/);
  const line = await logLine(fixture, "connection.log", "Failed:ClientCertCrlHit");
  assert.ok(line.includes(` ${serial} Failed:ClientCertCrlHit `), line);
  const failure = await waitFor("the edge's origin failure record", () => fixture.records.find((record) => record.status === 525));
  assert.equal(failure.level, 40, "an expected rejection is logged as a warning, not an error");
  assert.equal(JSON.stringify(fixture.records).includes(client.cookie("app.localhost", "CF_Authorization") as string), false, "no log line contains the token");
});

test("revoked origin pull: curl reset", async (t) => {
  const fixture = await startTestStack(t);
  const { stack } = fixture;

  await stack.prepared.pki.revoke(stack.prepared.originPull.info.name);
  await stack.prepared.pki.writeCrl();
  stack.reloadTrustStore();
  const result = await curl(["--cacert", fixture.files.localCa, "--cert", fixture.files.originPullCert, "--key", fixture.files.originPullKey, `${stack.urls.listener}/`]);

  assertResetWithoutResponse(result);
  await logLine(fixture, "connection.log", `${stack.prepared.originPull.info.serial} Failed:ClientCertCrlHit`);
});

test("restart with revoked origin pull fails", async (t) => {
  const fixture = await startTestStack(t);
  const { name } = fixture.stack.prepared.originPull.info;
  const pkiDir = fixture.stack.prepared.layout.pkiDir;
  await fixture.stack.prepared.pki.revoke(name);
  await fixture.stack.prepared.pki.writeCrl();
  await fixture.close();

  const restart = startTestStack(t, { dir: fixture.dir });

  await assert.rejects(restart, (error: unknown) => {
    assert.ok(error instanceof StackError);
    assert.equal(error.code, "ERR_STACK_STATE");
    assert.equal(
      error.message,
      `the client certificate "${name}" is revoked. Issue a new one with "edgelock pki issue client ${name} --force --dir ${pkiDir}", then start again.`,
    );
    return true;
  });
});
