import "reflect-metadata";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import tls from "node:tls";
import { openPkiStore, type PkiStore } from "../../src/pki/store.ts";
import { temporaryFolder } from "./fixtures.ts";

interface ServerRecord {
  /** `socket.authorized` and `socket.authorizationError` of each connection that completed the handshake. */
  handshakes: { authorized: boolean; authorizationError?: string }[];
  port: number;
}

/** Starts a TLS server on 127.0.0.1 that requests a client certificate from the store's CA and loads `crlPem`. */
async function startServer(t: TestContext, store: PkiStore, crlPem: string, rejectUnauthorized: boolean): Promise<ServerRecord> {
  const server = tls.createServer({
    cert: readFileSync(store.paths.certificate("listener")),
    key: readFileSync(store.paths.key("listener")),
    ca: readFileSync(store.paths.caCert),
    crl: crlPem,
    requestCert: true,
    rejectUnauthorized,
  });
  const record: ServerRecord = { handshakes: [], port: 0 };
  server.on("secureConnection", (socket) => {
    record.handshakes.push({ authorized: socket.authorized, authorizationError: socket.authorizationError?.toString() });
    if (socket.authorized) socket.end("hello\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  record.port = (server.address() as AddressInfo).port;
  return record;
}

/** Connects with the named client certificate; resolves with the data received or the error message. */
function connect(store: PkiStore, port: number, name: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "listener.localhost",
      ca: readFileSync(store.paths.caCert),
      cert: readFileSync(store.paths.certificate(name)),
      key: readFileSync(store.paths.key(name)),
    });
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
    socket.on("end", () => resolve(data === "" ? "closed without data" : data));
    socket.on("error", (error) => resolve(`error: ${error.message}`));
  });
}

async function storeWithClients(t: TestContext): Promise<PkiStore> {
  const store = openPkiStore(join(temporaryFolder(t), "pki"));
  await store.init({ subject: { commonName: "tls test root CA" } });
  await store.issue("server", "listener", { dnsNames: ["listener.localhost"], ipAddresses: ["127.0.0.1"] });
  await store.issue("client", "origin-pull");
  await store.issue("client", "other");
  return store;
}

test("strict TLS server rejects revoked client", async (t) => {
  const store = await storeWithClients(t);

  const before = await startServer(t, store, readFileSync(store.paths.crl, "utf8"), true);
  assert.equal(await connect(store, before.port, "origin-pull"), "hello\n");
  assert.equal(before.handshakes.length, 1);

  await store.revoke("origin-pull");
  const after = await startServer(t, store, readFileSync(store.paths.crl, "utf8"), true);
  assert.notEqual(await connect(store, after.port, "origin-pull"), "hello\n");
  assert.equal(after.handshakes.length, 0);
  assert.equal(await connect(store, after.port, "other"), "hello\n");
  assert.equal(after.handshakes.length, 1);
});

test("TLS server reports CERT_REVOKED", async (t) => {
  const store = await storeWithClients(t);
  await store.revoke("origin-pull");

  const server = await startServer(t, store, readFileSync(store.paths.crl, "utf8"), false);
  assert.equal(await connect(store, server.port, "origin-pull"), "closed without data");
  assert.deepEqual(server.handshakes[0], { authorized: false, authorizationError: "CERT_REVOKED" });
  assert.equal(await connect(store, server.port, "other"), "hello\n");
  assert.deepEqual(server.handshakes[1], { authorized: true, authorizationError: undefined });
});
