/**
 * Measures what the key type costs: key generation time, and the server CPU per full mutual-TLS handshake on
 * loopback. Not a test, because timings belong in docs/pki.md, not in assertions.
 *
 *   node_modules/.bin/node --import tsx test/pki/measure-key-types.ts [handshakes per key type, default 400]
 *
 * The server runs in a child process, so its `process.cpuUsage()` counts only the server's work. Session
 * tickets are off and no session is reused, as on an ALB in verify mode, so every connection is a full handshake.
 */
import "reflect-metadata";
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants } from "node:crypto";
import tls from "node:tls";
import type { AddressInfo } from "node:net";
import { generateKeyPair, type KeyType } from "../../src/pki/keys.ts";
import { openPkiStore } from "../../src/pki/store.ts";

const KEY_TYPES: KeyType[] = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-4096"];
const CONCURRENCY = 4;
/** Keys generated per type for the timing; fewer for RSA, whose generation takes up to seconds. */
const GENERATION_COUNTS: Record<KeyType, number> = { "ecdsa-p256": 200, "ecdsa-p384": 200, "ecdsa-p521": 200, "rsa-2048": 40, "rsa-3072": 20, "rsa-4096": 20, "rsa-8192": 5 };

interface ServerFiles {
  cert: string;
  key: string;
  ca: string;
}

/** Child process: a TLS server that requires client certificates and reports its own CPU time on request. */
function runServer(): void {
  process.on("message", (message: { files?: ServerFiles; measure?: boolean; stop?: boolean }) => {
    if (message.files !== undefined) {
      const server = tls.createServer({
        cert: readFileSync(message.files.cert),
        key: readFileSync(message.files.key),
        ca: readFileSync(message.files.ca),
        requestCert: true,
        rejectUnauthorized: true,
        secureOptions: constants.SSL_OP_NO_TICKET,
      });
      server.on("secureConnection", (socket) => socket.end());
      server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
    }
    if (message.measure === true) process.send?.({ cpu: process.cpuUsage() });
    if (message.stop === true) process.exit(0);
  });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

async function measureKeyGeneration(keyType: KeyType, count: number): Promise<{ median: number; p90: number; max: number }> {
  const durations: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = process.hrtime.bigint();
    await generateKeyPair(keyType);
    durations.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  durations.sort((left, right) => left - right);
  return { median: percentile(durations, 0.5), p90: percentile(durations, 0.9), max: durations.at(-1) ?? Number.NaN };
}

function handshake(port: number, client: { cert: Buffer; key: Buffer; ca: Buffer }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "listener.localhost", ...client });
    socket.on("secureConnect", () => socket.end());
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
}

async function measureHandshakes(keyType: KeyType, count: number): Promise<{ serverCpuMs: number; wallMs: number }> {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-measure-"));
  try {
    const store = openPkiStore(folder);
    await store.init({ subject: { commonName: `measure ${keyType}` }, keyType });
    await store.issue("server", "listener", { dnsNames: ["listener.localhost"], keyType });
    await store.issue("client", "origin-pull", { keyType });

    const server = fork(fileURLToPath(import.meta.url), ["server"], { execArgv: ["--import", "tsx"] });
    const reply = <T>(request: object): Promise<T> =>
      new Promise((resolve) => {
        server.once("message", (message) => resolve(message as T));
        server.send(request);
      });
    const { port } = await reply<{ port: number }>({ files: { cert: store.paths.certificate("listener"), key: store.paths.key("listener"), ca: store.paths.caCert } });
    const client = { cert: readFileSync(store.paths.certificate("origin-pull")), key: readFileSync(store.paths.key("origin-pull")), ca: readFileSync(store.paths.caCert) };

    // Warm up both processes before the measured run.
    for (let index = 0; index < 20; index += 1) await handshake(port, client);

    const before = await reply<{ cpu: NodeJS.CpuUsage }>({ measure: true });
    const start = process.hrtime.bigint();
    let next = 0;
    const runners = Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next += 1;
        await handshake(port, client);
      }
    });
    await Promise.all(runners);
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const after = await reply<{ cpu: NodeJS.CpuUsage }>({ measure: true });
    server.send({ stop: true });

    const cpuMicros = after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system);
    return { serverCpuMs: cpuMicros / 1000 / count, wallMs };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function measure(): Promise<void> {
  const handshakes = Number(process.argv[2] ?? 400);
  console.log(`Node ${process.version}, OpenSSL ${process.versions.openssl}, ${handshakes} handshakes per key type, concurrency ${CONCURRENCY}`);
  console.log("| key type | keygen median ms | keygen p90 ms | keygen max ms | server CPU ms per handshake | handshakes/s per core |");
  console.log("|---|---|---|---|---|---|");
  for (const keyType of KEY_TYPES) {
    const generation = await measureKeyGeneration(keyType, GENERATION_COUNTS[keyType]);
    const tlsCost = await measureHandshakes(keyType, handshakes);
    const perCore = 1000 / tlsCost.serverCpuMs;
    console.log(
      `| ${keyType} | ${generation.median.toFixed(2)} | ${generation.p90.toFixed(2)} | ${generation.max.toFixed(2)} | ${tlsCost.serverCpuMs.toFixed(2)} | ${perCore.toFixed(0)} |`,
    );
  }
}

if (process.argv[2] === "server") runServer();
else await measure();
