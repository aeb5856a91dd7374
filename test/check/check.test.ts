import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { albSerialNumber, compareMtlsHeaders } from "../../src/check/echo.ts";
import { DEFAULT_MTLS_HEADER_NAMES, runChecks } from "../../src/check/index.ts";
import { Connector } from "../../src/check/network.ts";
import { createRootCa, issueLeaf } from "../../src/pki/index.ts";
import { checkArgs, checkOf, runCheckJson, runCli, startChildStack, startTestStack, temporaryFolder } from "./fixtures.ts";

const DAY_MS = 86_400_000;

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Records the remote end of every TCP client socket this process opens while `body` runs. */
async function recordConnections<T>(body: () => Promise<T>): Promise<{ result: T; sockets: number; remotes: { address: string; port: number }[] }> {
  let sockets = 0;
  const remotes: { address: string; port: number }[] = [];
  const onSocket = (message: unknown) => {
    sockets += 1;
    const { socket } = message as { socket: Socket };
    socket.once("connect", () => remotes.push({ address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 }));
  };
  diagnostics.subscribe("net.client.socket", onSocket);
  try {
    const result = await body();
    return { result, sockets, remotes };
  } finally {
    diagnostics.unsubscribe("net.client.socket", onSocket);
  }
}

test("every check passes against a running stack", async (t) => {
  const stack = await startChildStack(t, temporaryFolder(t));
  const edgePort = portOf(stack.urls.app);
  const listenerPort = portOf(stack.urls.listener);

  const { result, sockets, remotes } = await recordConnections(() => runCheckJson(checkArgs(stack)));
  const { code, report } = result;
  assert.equal(code, 0);
  assert.equal(report.ok, true);
  assert.deepEqual(report.checks.map((check) => [check.id, check.status]), [[1, "pass"], [2, "pass"], [3, "pass"], [4, "pass"], [5, "pass"], [6, "pass"]]);
  assert.deepEqual(report.summary, { pass: 6, warn: 0, fail: 0, skip: 0 });
  assert.equal(report.teamDomain, `team.localhost:${edgePort}`);

  assert.equal(checkOf(report, 1).reason, "connection reset after the request was sent, without an HTTP response.");
  assert.match(checkOf(report, 2).reason, /^HTTP 200 from the echo function; X-Amzn-Mtls-Clientcert-Serial-Number is [0-9A-F]+ and the leaf header decodes to the certificate sent\.$/);
  assert.equal(checkOf(report, 2).details.sentAccessToken, true);
  assert.equal(checkOf(report, 3).reason, "connection reset after the request was sent, without an HTTP response.");
  assert.equal(checkOf(report, 4).reason, `HTTP 302 to team.localhost:${edgePort}/cdn-cgi/access/login/app.localhost; the team domain serves 1 RS256 key at /cdn-cgi/access/certs.`);
  assert.match(checkOf(report, 5).reason, /^HTTP 200 from the target; the Cf-Access-Jwt-Assertion the target received is a valid app token for service token [0-9a-f]{32}\.access, with aud [0-9a-f]{64}\.$/);
  assert.match(checkOf(report, 6).reason, /^The client certificate expires in 7\d\d days \(.+\); the CA expires in 18\d\d days \(.+\); the CRL's next update is due in (29|30) days \(.+\)\.$/);

  // Check 4 opens two connections (app and JWKS), and checks 1, 2, 3 and 5 one each. Check 6 reads files only.
  const hosts = report.connections.map((connection) => `${connection.host}:${connection.port}`);
  assert.deepEqual(hosts.sort(), [
    `alb.localhost:${listenerPort}`,
    `alb.localhost:${listenerPort}`,
    `alb.localhost:${listenerPort}`,
    `app.localhost:${edgePort}`,
    `app.localhost:${edgePort}`,
    `team.localhost:${edgePort}`,
  ]);
  assert.equal(sockets, 6, "the process opened exactly the connections the report lists");
  assert.equal(remotes.length, 6);
  for (const remote of remotes) {
    assert.equal(remote.address, "127.0.0.1");
    assert.ok([edgePort, listenerPort].includes(remote.port), `connection to port ${remote.port} goes to the edge or the listener`);
  }

  const text = await runCli(checkArgs(stack, false));
  assert.equal(text.code, 0);
  assert.equal(text.out.length, 7);
  assert.match(text.out[0] ?? "", /^PASS  1  Origin rejects clients without a certificate: connection reset/);
  assert.match(text.out[1] ?? "", /^PASS  2  Origin accepts the edge's certificate: the mTLS gate let the certificate through: HTTP 401 from the target, which requires an Access token \(hardened default; pass a service token to see the mTLS headers\)\.$/);
  assert.equal(text.out[4], "SKIP  5  Service token reaches the origin: no service token given (--service-token-id and --service-token-secret, or EDGELOCK_SERVICE_TOKEN_ID and _SECRET).");
  assert.equal(text.out[6], `OK: 5 passed, 0 warnings, 0 failed, 1 skipped (app ${stack.urls.app}/, origin ${stack.urls.listener}/).`);
});

for (const mode of ["passthrough", "off"] as const) {
  test(`origin checks fail with mTLS ${mode}`, async (t) => {
    const target = await startTestStack(t, temporaryFolder(t), (input) => {
      input.alb = { mutualAuthentication: { mode } };
    });
    const { code, report } = await runCheckJson(checkArgs({ ...target, urls: target.stack.urls }));

    assert.equal(code, 1);
    assert.equal(report.ok, false);
    assert.equal(checkOf(report, 1).status, "fail");
    assert.equal(checkOf(report, 1).reason, "mTLS is off or in passthrough: the origin returned HTTP 401 to a client without a certificate.");
    assert.equal(checkOf(report, 3).status, "fail");
    assert.equal(checkOf(report, 3).reason, "mTLS is off or in passthrough: the origin returned HTTP 401 to a client whose certificate comes from an unknown CA.");
    assert.equal(checkOf(report, 2).status, "fail");
    const expected =
      mode === "passthrough"
        ? "HTTP 200 from the echo function, but the target received X-Amzn-Mtls-Clientcert and no X-Amzn-Mtls-Clientcert-Serial-Number, so mTLS is in passthrough and the listener did not verify the certificate."
        : "HTTP 200 from the echo function, but the target received no X-Amzn-Mtls-Clientcert-Serial-Number header, so mTLS is off and the listener did not ask for the certificate.";
    assert.equal(checkOf(report, 2).reason, expected);
    assert.deepEqual([4, 5, 6].map((id) => checkOf(report, id).status), ["pass", "pass", "pass"]);
  });
}

test("app check fails without an Access application", async (t) => {
  const target = await startTestStack(t, temporaryFolder(t), (input) => {
    input.access.applications[0].domain = "other.example.com";
  });
  const { code, report } = await runCheckJson(checkArgs({ ...target, urls: target.stack.urls }));
  const app = new URL(target.stack.urls.app);

  assert.equal(code, 1);
  assert.equal(checkOf(report, 4).status, "fail");
  assert.equal(
    checkOf(report, 4).reason,
    `the app host returned HTTP 401 to an anonymous request, without Access: no Access application covers ${app.host}/. The request reached the origin: the function rejected it for lack of an Access token.`,
  );
  assert.equal(report.teamDomain, null);
  assert.equal(checkOf(report, 5).status, "fail");
  assert.match(checkOf(report, 5).reason, /^the request reached the origin, but the function rejected the app token: no Access token/);
  assert.deepEqual([1, 2, 3, 6].map((id) => checkOf(report, id).status), ["pass", "pass", "pass", "pass"]);
});

test("app check warns on Service Auth only", async (t) => {
  const target = await startTestStack(t, temporaryFolder(t), (input) => {
    input.access.applications[0].policies = [{ name: "ci", decision: "non_identity", include: [{ serviceToken: "ci" }] }];
  });
  const { code, report } = await runCheckJson(checkArgs({ ...target, urls: target.stack.urls }));
  const app = checkOf(report, 4);

  assert.equal(code, 0, "warnings do not fail the run");
  assert.equal(app.status, "warn");
  assert.equal(
    app.reason,
    "Access returned HTTP 403 instead of a login redirect: no policy can pass for this client, or the application accepts only service tokens. The JWKS was not checked, because a 403 names no team domain.",
  );
  assert.equal(app.details.aud, target.stack.applications[0]?.aud);
  assert.equal(checkOf(report, 5).status, "warn");
  assert.equal(checkOf(report, 5).reason, "HTTP 200 from the target with an app token, but the token was not verified: check 4 found no team domain JWKS or no application AUD.");
  assert.deepEqual([1, 2, 3, 6].map((id) => checkOf(report, id).status), ["pass", "pass", "pass", "pass"]);
});

test("CRL and revocation break the matching checks", async (t) => {
  const target = await startTestStack(t, temporaryFolder(t));
  const args = checkArgs({ ...target, urls: target.stack.urls });
  const { pki } = target.stack.prepared;

  await t.test("CRL close to nextUpdate warns", async () => {
    await pki.writeCrl({ nextUpdateDays: 3 });
    target.stack.reloadTrustStore();
    const { code, report } = await runCheckJson(args);
    assert.equal(code, 0, "a warning does not fail the run");
    assert.equal(checkOf(report, 6).status, "warn");
    assert.match(checkOf(report, 6).reason, /; the CRL's next update is due in 2 days \(\d{4}-\d\d-\d\d\)\.$/);
    assert.equal(checkOf(report, 6).details.crlNextUpdateDaysLeft, 2);
  });

  await t.test("CRL past nextUpdate fails", async () => {
    const now = new Date(Date.now() - 40 * DAY_MS);
    await pki.writeCrl({ now, nextUpdateDays: 30 });
    target.stack.reloadTrustStore();
    const { code, report } = await runCheckJson(args);
    const due = new Date(now.getTime() + 30 * DAY_MS).toISOString().slice(0, 10);
    assert.equal(code, 1);
    assert.equal(checkOf(report, 6).status, "fail");
    assert.match(checkOf(report, 6).reason, new RegExp(`; the CRL's next update was due on ${due}\\.$`));
    assert.deepEqual([1, 2, 3, 4, 5].map((id) => checkOf(report, id).status), ["pass", "pass", "pass", "pass", "pass"], "the listener ignores nextUpdate by default");
  });

  await t.test("revoked client certificate fails", async () => {
    const revoked = await pki.revoke(target.stack.prepared.originPull.info.name);
    await pki.writeCrl();
    target.stack.reloadTrustStore();
    const { code, report } = await runCheckJson(args);
    assert.equal(code, 1);
    assert.equal(checkOf(report, 2).status, "fail");
    assert.equal(
      checkOf(report, 2).reason,
      `the origin rejected the edge's certificate (serial ${revoked.serial}): connection reset after the request was sent, without an HTTP response. Is its CA in the trust store, and is it absent from the CRL?`,
    );
    // Check 5 is left out: the edge may reuse an origin connection it opened before the revocation, and the
    // listener, like an ALB, verifies a client certificate only once per connection.
    assert.equal(checkOf(report, 6).status, "fail");
    assert.match(checkOf(report, 6).reason, new RegExp(`; the CRL lists the client certificate \\(serial ${revoked.serial}\\) as revoked\\.$`));
    assert.deepEqual([1, 3, 4].map((id) => checkOf(report, id).status), ["pass", "pass", "pass"]);
  });
});

test("hosts that never answer time out", async (t) => {
  const openSockets: Socket[] = [];
  const silent = createServer((socket) => openSockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of openSockets) socket.destroy();
    silent.close();
  });
  const port = (silent.address() as AddressInfo).port;
  const ca = await createRootCa({ commonName: "timeout test CA" });
  const leaf = await issueLeaf(ca, { profile: "client", subject: { commonName: "timeout test client" } });

  const report = await runChecks({
    app: new URL(`https://app.localhost:${port}`),
    origin: new URL(`https://alb.localhost:${port}`),
    clientCertificate: { certPem: leaf.certificatePem, keyPem: leaf.privateKeyPem },
    serviceToken: { clientId: "id.access", clientSecret: "secret" },
    timeoutSeconds: 0.3,
  });
  for (const id of [1, 2, 3, 4, 5]) {
    assert.equal(checkOf(report, id).status, "fail");
    assert.equal(checkOf(report, id).reason, "timed out after 0.3 s.");
  }
  assert.equal(report.ok, false);
});

test("mTLS header comparison names the mismatch", async () => {
  const ca = await createRootCa({ commonName: "header test CA" });
  const sent = await issueLeaf(ca, { profile: "client", subject: { commonName: "sent" } });
  const other = await issueLeaf(ca, { profile: "client", subject: { commonName: "other" } });
  const serial = albSerialNumber(new X509Certificate(sent.certificatePem));
  const otherSerial = albSerialNumber(new X509Certificate(other.certificatePem));
  const names = DEFAULT_MTLS_HEADER_NAMES;
  const event = (headers: Record<string, string>) => ({ headers });
  const leafOf = (pem: string) => encodeURIComponent(pem).replaceAll("%2B", "+").replaceAll("%2F", "/").replaceAll("%3D", "=");

  assert.equal(compareMtlsHeaders(event({ "x-amzn-mtls-clientcert-serial-number": serial, "x-amzn-mtls-clientcert-leaf": leafOf(sent.certificatePem) }), sent.certificatePem, names), undefined);
  assert.equal(
    compareMtlsHeaders(event({ "x-amzn-mtls-clientcert-serial-number": otherSerial, "x-amzn-mtls-clientcert-leaf": leafOf(sent.certificatePem) }), sent.certificatePem, names),
    `X-Amzn-Mtls-Clientcert-Serial-Number is "${otherSerial}" but the certificate's serial is ${serial}`,
  );
  assert.equal(
    compareMtlsHeaders(event({ "x-amzn-mtls-clientcert-serial-number": serial, "x-amzn-mtls-clientcert-leaf": leafOf(other.certificatePem) }), sent.certificatePem, names),
    `X-Amzn-Mtls-Clientcert-Leaf decodes to another certificate (serial ${otherSerial}, subject CN=other)`,
  );
  assert.equal(compareMtlsHeaders(event({ "x-amzn-mtls-clientcert-serial-number": serial }), sent.certificatePem, names), "the target received no X-Amzn-Mtls-Clientcert-Leaf header");
  assert.equal(
    compareMtlsHeaders({ multiValueHeaders: { "x-amzn-mtls-clientcert-serial-number": [serial], "x-amzn-mtls-clientcert-leaf": [leafOf(sent.certificatePem)] } }, sent.certificatePem, names),
    undefined,
    "multi-value events are read too",
  );
});

test("connector rejects hosts not allowed", async () => {
  const connector = new Connector({ allowed: [new URL("https://app.localhost:8443")] });
  const { sockets } = await recordConnections(async () => {
    await assert.rejects(connector.probe({ url: new URL("https://elsewhere.localhost:8443/"), signal: new AbortController().signal }), {
      code: "ERR_CHECK_HOST_NOT_ALLOWED",
      message: "refusing to connect to elsewhere.localhost:8443: only the app host, the origin host and the team domain from the app's login redirect are allowed",
    });
    await assert.rejects(connector.probe({ url: new URL("https://app.localhost:9443/"), signal: new AbortController().signal }), { code: "ERR_CHECK_HOST_NOT_ALLOWED" });
  });
  assert.equal(sockets, 0);
  assert.deepEqual(connector.connections, []);
});

test("health check warns on a certificate about to expire", async (t) => {
  const dir = temporaryFolder(t);
  const ca = await createRootCa({ commonName: "health test CA" });
  const leaf = await issueLeaf(ca, { profile: "client", subject: { commonName: "short-lived" }, validityDays: 10 });
  const notAfter = new X509Certificate(leaf.certificatePem).validTo;

  const report = await runChecks({
    app: new URL("https://app.localhost:1"),
    origin: new URL("https://alb.localhost:1"),
    clientCertificate: { certPem: leaf.certificatePem, keyPem: leaf.privateKeyPem },
    healthFiles: { caCertificateFile: `${dir}/missing-ca.pem`, crlFile: `${dir}/missing-crl.pem` },
  });
  const health = checkOf(report, 6);
  assert.equal(health.status, "warn");
  assert.equal(
    health.reason,
    `The client certificate expires in 9 days (${new Date(notAfter).toISOString().slice(0, 10)}); the CA was not checked: ${dir}/missing-ca.pem does not exist; the CRL was not checked: ${dir}/missing-crl.pem does not exist.`,
  );
  assert.equal(checkOf(report, 1).reason, "could not connect to alb.localhost:1 (ECONNREFUSED); check that it is running and reachable from here.");
  assert.equal(checkOf(report, 5).status, "skip");
});

test("check rejects invalid options", async () => {
  const cases: [string[], string][] = [
    [["--cert", "client.pem"], "edgelock check: --cert and --key go together; pass both, or neither to use the origin-pull certificate"],
    [["--app", "http://app.localhost:8443"], 'edgelock check: --app must be an https:// URL; both gates only speak TLS (got "http://app.localhost:8443")'],
    [["--timeout", "soon"], 'edgelock check: --timeout must be a number of seconds above 0 and at most 600, such as 10 (got "soon")'],
    [["--service-token-id", "abc.access"], "edgelock check: a service token needs both the Client ID and the Client Secret: pass --service-token-id with --service-token-secret, or set both EDGELOCK_SERVICE_TOKEN_ID and EDGELOCK_SERVICE_TOKEN_SECRET"],
    [["extra"], 'edgelock check: unexpected argument "extra"; see "edgelock check --help"'],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(["check", "--config", "/nonexistent/edgelock.config.json", ...args]);
    assert.equal(result.code, 2, `exit code for ${args.join(" ")}`);
    assert.deepEqual(result.err, [message]);
  }
});
