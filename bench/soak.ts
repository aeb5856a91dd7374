/**
 * Soak test of the local stack: 100 concurrent connections for 60 s through the whole path, mixing valid sessions,
 * requests without a session cookie and listener connections without a client certificate. It checks that every
 * response is the documented one, that resident memory stays flat after warm-up and that no file descriptor leaks.
 *
 *   node --import tsx bench/soak.ts [--duration S] [--max-requests N] [--warmup S] [--connections N] [--no-write]
 *
 * The stack runs in a child process (so its memory and descriptors are measured alone) with a fresh state folder:
 * one application that allows @example.com addresses and the service token "soak". Talks to loopback only.
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect } from "node:tls";
import pino from "pino";
import { Client } from "undici";
import { openServiceTokenStore } from "../src/access/index.ts";
import { parseConfig, type LoadedConfig } from "../src/config/index.ts";
import { REDACTED_PATHS } from "../src/shared/logger.ts";
import { startStack } from "../src/stack/stack.ts";
import { stackLayout } from "../src/stack/layout.ts";
import { PROJECT_ROOT } from "./anchor.ts";
import { quantile } from "./micro.ts";
import { writeBlocks } from "./report.ts";

/** Message the stack process sends its parent once it listens. The secret travels over IPC only, never to a log. */
interface ReadyMessage {
  app: string;
  team: string;
  listener: string;
  localCaPem: string;
  clientId: string;
  clientSecret: string;
  connectionLog: string;
}

/** Shares of the connections: most carry a session, some lack the cookie, a few open the listener without a certificate. */
const MIX = { session: 0.8, missingCookie: 0.15, noCertificate: 0.05 };

function soakConfig(baseDir: string): LoadedConfig {
  const config = parseConfig(
    {
      access: {
        applications: [
          {
            name: "app",
            sessionDuration: "24h",
            policies: [
              { name: "soak-service-token", decision: "non_identity", include: [{ serviceToken: "soak" }] },
              { name: "allow-example-com", decision: "allow", include: [{ emailDomain: "example.com" }] },
            ],
          },
        ],
        serviceTokens: [{ name: "soak" }],
      },
    },
    "soak configuration",
  );
  return { config, file: join(baseDir, "edgelock.config.json"), baseDir };
}

/** Starts the stack on free ports (in the child process) and waits for SIGTERM or the parent to exit. */
async function serve(baseDir: string): Promise<void> {
  const loaded = soakConfig(baseDir);
  const layout = stackLayout(join(baseDir, loaded.config.local.stateDir));
  const token = openServiceTokenStore(layout.serviceTokensFile).create("soak");
  const destination = pino.destination({ dest: join(layout.logDir, "edgelock.log"), sync: false, minLength: 4096, mkdir: true });
  const logger = pino({ level: "info", base: undefined, redact: { paths: REDACTED_PATHS }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const stack = await startStack(loaded, { logger, edgePort: 0, listenerPort: 0 });
  const ready: ReadyMessage = {
    ...stack.urls,
    localCaPem: stack.prepared.localCaPem,
    clientId: token.clientId,
    clientSecret: token.clientSecret,
    connectionLog: join(layout.logDir, "connection.log"),
  };
  process.send?.(ready);
  // The parent asks for the heap after a full collection, to tell retained memory from heap the GC has not reclaimed yet.
  process.on("message", (message) => {
    if (message !== "heap") return;
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ heapUsed: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss });
  });
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("disconnect", resolve);
  });
  await stack.close();
  destination.flushSync();
  process.exit(0);
}

interface Tally {
  requests: number;
  /** Listener connections opened without a client certificate, whatever their outcome. */
  noCertificateAttempts: number;
  sessionOk: number;
  redirects: number;
  resets: number;
  unexpected: Map<string, number>;
}

function countUnexpected(tally: Tally, what: string): void {
  tally.unexpected.set(what, (tally.unexpected.get(what) ?? 0) + 1);
}

function edgeClient(url: string, caPem: string): Client {
  const host = new URL(url).hostname;
  return new Client(url, {
    connect: { ca: caPem, servername: host, lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }]) },
    pipelining: 1,
  });
}

/** Opens one TLS connection to the listener without a client certificate; resolves true when the listener resets it. */
function connectWithoutCertificate(listener: string, caPem: string): Promise<boolean | string> {
  const url = new URL(listener);
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: Number(url.port), servername: url.hostname, ca: caPem }, () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    });
    socket.once("data", () => {
      socket.destroy();
      resolve("listener answered a client without a certificate");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNRESET" ? true : `listener connection failed with ${error.code ?? error.message}`));
    socket.once("close", () => resolve("listener closed the connection without a reset"));
  });
}

interface LoadOptions {
  ready: ReadyMessage;
  cookie: string;
  connections: number;
  durationMs: number;
  maxRequests: number;
  tally: Tally;
}

/** Runs `connections` workers until the deadline or the request budget; each worker keeps one connection open at a time. */
async function runLoad(options: LoadOptions): Promise<void> {
  const { ready, tally } = options;
  const deadline = performance.now() + options.durationMs;
  const more = () => performance.now() < deadline && tally.requests < options.maxRequests;
  const sessions = Math.round(options.connections * MIX.session);
  const noCertificate = Math.max(1, Math.round(options.connections * MIX.noCertificate));
  const missingCookie = options.connections - sessions - noCertificate;

  const edgeWorker = async (withCookie: boolean) => {
    const client = edgeClient(ready.app, ready.localCaPem);
    try {
      while (more()) {
        tally.requests++;
        try {
          const response = await client.request({ method: "GET", path: withCookie ? "/soak" : "/soak?no-cookie", headers: withCookie ? { cookie: options.cookie } : {} });
          const body = await response.body.text();
          if (withCookie && response.statusCode === 200 && body.includes('"Hello from Lambda!"')) tally.sessionOk++;
          else if (!withCookie && response.statusCode === 302 && String(response.headers.location).startsWith(`${ready.team}/cdn-cgi/access/login/`)) tally.redirects++;
          else countUnexpected(tally, `${withCookie ? "session" : "no cookie"}: HTTP ${response.statusCode} ${body.slice(0, 80)}`);
        } catch (error) {
          countUnexpected(tally, `${withCookie ? "session" : "no cookie"}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        }
      }
    } finally {
      await client.close();
    }
  };
  const listenerWorker = async () => {
    while (more()) {
      tally.requests++;
      tally.noCertificateAttempts++;
      const outcome = await connectWithoutCertificate(ready.listener, ready.localCaPem);
      if (outcome === true) tally.resets++;
      else countUnexpected(tally, `no certificate: ${outcome}`);
    }
  };

  await Promise.all([
    ...Array.from({ length: sessions }, () => edgeWorker(true)),
    ...Array.from({ length: missingCookie }, () => edgeWorker(false)),
    ...Array.from({ length: noCertificate }, listenerWorker),
  ]);
}

/** Logs in once with the service token and returns the CF_Authorization cookie the edge set. */
async function loginWithServiceToken(ready: ReadyMessage): Promise<string> {
  const client = edgeClient(ready.app, ready.localCaPem);
  try {
    const response = await client.request({ method: "GET", path: "/", headers: { "cf-access-client-id": ready.clientId, "cf-access-client-secret": ready.clientSecret } });
    await response.body.text();
    const cookies = ([] as string[]).concat(response.headers["set-cookie"] ?? []);
    const cookie = cookies.find((value) => value.startsWith("CF_Authorization="))?.split(";")[0];
    if (response.statusCode !== 200 || cookie === undefined) throw new Error(`service-token login failed: HTTP ${response.statusCode}, no CF_Authorization cookie`);
    return cookie;
  } finally {
    await client.close();
  }
}

function residentKilobytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((entry) => entry.startsWith("VmRSS:"));
  return Number(line?.replace(/\D+/g, "") ?? Number.NaN);
}

function openDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds of idle time before counting descriptors: longer than the 4 s keep-alive of the edge's and the JWKS pools. */
const IDLE_SECONDS = 6;

async function startChild(baseDir: string): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", baseDir], { execArgv: [...process.execArgv, "--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once("message", (message) => resolve(message as ReadyMessage));
    child.once("exit", (code) => reject(new Error(`the stack process exited with code ${code} before it was ready`)));
  });
  child.removeAllListeners("exit");
  return { child, ready };
}

/** Returns the stack process's heap in use after a full garbage collection, in bytes. */
function heapAfterCollection(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once("message", (message) => resolve((message as { heapUsed: number }).heapUsed));
    child.send("heap");
  });
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      serve: { type: "string" },
      duration: { type: "string", default: "60" },
      "max-requests": { type: "string" },
      // V8 grows the old generation for the first half minute of this load (measured: resident memory levels off
      // at 25-30 s while the heap after a full collection stays flat), so the baseline is taken after 30 s.
      warmup: { type: "string", default: "30" },
      connections: { type: "string", default: "100" },
      "no-write": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.serve !== undefined) {
    await serve(values.serve);
    return 0;
  }
  if (values.help === true) {
    process.stdout.write(
      "Usage: node --import tsx bench/soak.ts [--duration S] [--max-requests N] [--warmup S] [--connections N] [--no-write]\n" +
        "  --duration S       seconds of measured load (default 60)\n  --max-requests N   stop the measured load after N requests (default: no limit)\n" +
        "  --warmup S         seconds of load before the baseline (default 30)\n  --connections N    concurrent connections, at least 20 (default 100)\n" +
        "  --no-write         do not update docs/benchmarks.md\n",
    );
    return 0;
  }
  const durationSeconds = Number(values.duration);
  const warmupSeconds = Number(values.warmup);
  const connections = Number(values.connections);
  const maxRequests = values["max-requests"] === undefined ? Number.POSITIVE_INFINITY : Number(values["max-requests"]);
  if (!(durationSeconds > 0) || !(warmupSeconds >= 0) || !Number.isInteger(connections) || connections < 20 || !(maxRequests > 0)) {
    process.stderr.write("soak: --duration must be above 0, --warmup 0 or more, --connections a whole number of 20 or more, --max-requests above 0\n");
    return 2;
  }

  const baseDir = mkdtempSync(join(tmpdir(), "edgelock-soak-"));
  const { child, ready } = await startChild(baseDir);
  const pid = child.pid as number;
  const tally: Tally = { requests: 0, noCertificateAttempts: 0, sessionOk: 0, redirects: 0, resets: 0, unexpected: new Map() };
  try {
    const cookie = await loginWithServiceToken(ready);
    process.stderr.write(`soak: stack pid ${pid} ready (${ready.app}, listener ${ready.listener}); warming up for ${warmupSeconds} s\n`);
    await runLoad({ ready, cookie, connections, durationMs: warmupSeconds * 1000, maxRequests: Number.POSITIVE_INFINITY, tally });
    await sleep(IDLE_SECONDS * 1000);
    const descriptorsBefore = openDescriptors(pid);
    const heapBefore = await heapAfterCollection(child);
    const warmupTally = { ...tally, unexpected: new Map(tally.unexpected) };
    Object.assign(tally, { requests: 0, noCertificateAttempts: 0, sessionOk: 0, redirects: 0, resets: 0, unexpected: new Map() });

    process.stderr.write(`soak: ${connections} connections for ${durationSeconds} s\n`);
    const samples: { at: number; kilobytes: number }[] = [];
    const started = performance.now();
    const sampler = setInterval(() => samples.push({ at: (performance.now() - started) / 1000, kilobytes: residentKilobytes(pid) }), 1000);
    await runLoad({ ready, cookie, connections, durationMs: durationSeconds * 1000, maxRequests, tally });
    clearInterval(sampler);
    const elapsedSeconds = (performance.now() - started) / 1000;
    await sleep(IDLE_SECONDS * 1000);
    const descriptorsAfter = openDescriptors(pid);
    const heapAfter = await heapAfterCollection(child);

    const exitCode = await stopChild(child);
    const connectionLog = readFileSync(ready.connectionLog, "utf8");
    const rejectedLines = connectionLog.split("\n").filter((line) => line.includes(" Failed:ClientCertRejected ")).length;
    const expectedRejections = warmupTally.noCertificateAttempts + tally.noCertificateAttempts;

    const window = Math.min(3, Math.max(1, Math.floor(samples.length / 4)));
    const baseline = quantile(samples.slice(0, window).map((sample) => sample.kilobytes), 0.5);
    const final = quantile(samples.slice(-window).map((sample) => sample.kilobytes), 0.5);
    const peak = Math.max(...samples.map((sample) => sample.kilobytes));
    const growth = (final - baseline) / baseline;
    const unexpected = [...tally.unexpected].reduce((sum, [, count]) => sum + count, 0) + [...warmupTally.unexpected].reduce((sum, [, count]) => sum + count, 0);

    const checks = [
      { name: "unexpected responses or errors", ok: unexpected === 0, value: String(unexpected) },
      { name: "Failed:ClientCertRejected lines = connections without a certificate", ok: rejectedLines === expectedRejections, value: `${rejectedLines} lines, ${expectedRejections} connections` },
      { name: "resident memory growth after warm-up < 10 %", ok: growth < 0.1, value: `${(growth * 100).toFixed(1)} % (${(baseline / 1024).toFixed(1)} → ${(final / 1024).toFixed(1)} MB, peak ${(peak / 1024).toFixed(1)} MB)` },
      { name: "open file descriptors after = before", ok: descriptorsAfter <= descriptorsBefore, value: `${descriptorsBefore} → ${descriptorsAfter}` },
      { name: "stack stopped cleanly", ok: exitCode === 0, value: `exit code ${exitCode}` },
    ];
    const lines = [
      `Last run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, \`node --import tsx bench/soak.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(" ")}` : ""}\`: ` +
        `${connections} concurrent connections for ${elapsedSeconds.toFixed(0)} s after a ${warmupSeconds} s warm-up (${MIX.session * 100} % sessions with a service-token cookie, ` +
        `${MIX.missingCookie * 100} % without a cookie, ${MIX.noCertificate * 100} % listener connections without a client certificate).`,
      "",
      `Requests: ${tally.requests.toLocaleString("en-US")} (${(tally.requests / elapsedSeconds).toFixed(0)}/s): ${tally.sessionOk.toLocaleString("en-US")} × 200 from the echo function with a verified token, ` +
        `${tally.redirects.toLocaleString("en-US")} × 302 to the login page, ${tally.resets.toLocaleString("en-US")} × TCP reset at the listener.`,
      "",
      "| check | result | measured |",
      "|---|---|---|",
      ...checks.map((check) => `| ${check.name} | ${check.ok ? "pass" : "**fail**"} | ${check.value} |`),
    ];
    const quarter = (fraction: number) => ((samples[Math.min(samples.length - 1, Math.floor(fraction * samples.length))]?.kilobytes ?? Number.NaN) / 1024).toFixed(1);
    lines.push(
      "",
      `Resident memory under load at 0, 25, 50, 75 and 100 % of the run: ${[0, 0.25, 0.5, 0.75, 1].map(quarter).join(", ")} MB. ` +
        `Heap in use after a full garbage collection, with the stack idle: ${(heapBefore / 1048576).toFixed(1)} MB after the warm-up, ${(heapAfter / 1048576).toFixed(1)} MB after the run.`,
    );
    for (const [what, count] of [...warmupTally.unexpected, ...tally.unexpected]) lines.push(`- unexpected: ${count} × ${what}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    if (values["no-write"] !== true) {
      const page = join(PROJECT_ROOT, "docs", "benchmarks.md");
      writeBlocks(page, { soak: lines.join("\n") });
      process.stderr.write(`soak: wrote ${relative(process.cwd(), page)}\n`);
    }
    return checks.every((check) => check.ok) ? 0 : 1;
  } finally {
    await stopChild(child);
    rmSync(baseDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
