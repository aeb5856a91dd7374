/**
 * Starts edgelock's chain for the nginx anchor's side-by-side contract (run.sh --target-start):
 *
 *   EDGE_PORT=18443 ORIGIN_PORT=19443 ANCHOR_CERT_DIR=… ANCHOR_BACKEND_URL=http://127.0.0.1:9000 \
 *     node --import tsx bench/start-chain.ts
 *
 * Environment:
 *   ANCHOR_CERT_DIR            gen-certs.sh folder: edge.crt/key (edge), origin.crt/key (listener), client.crt/key
 *                              (origin pull), ca.crt (trust store and the CA the edge checks the listener with)
 *   EDGE_PORT, ORIGIN_PORT     ports on 127.0.0.1 (0 picks free ones; the ready line names them). Default 8443, 9443.
 *   ANCHOR_BACKEND_URL         echo backend behind /echo. Default: the echo Lambda function answers /echo.
 *   EDGELOCK_BENCH_PROCESSES   "2" (default): the listener runs in a child process, so the edge and the listener
 *                              each have a core, as the anchor's two nginx instances with one worker each; "1": both
 *                              in this process.
 *   EDGELOCK_BENCH_STATIC      "fixed" (default): /static is a fixed-response action; "lambda": a Lambda function.
 *   EDGELOCK_BENCH_LOG_LEVEL   pino level of the JSON logs (default "info": one line per request on each hop).
 *   EDGELOCK_BENCH_LISTENER_LOGS  "1" (default) writes the listener's connection.log and access.log; "0" does not.
 *   EDGELOCK_BENCH_STATE_DIR   folder for keys and logs, kept on exit. Default: a temporary folder, removed on exit.
 *
 * Prints one line "chain ready: edge=<url> listener=<url> processes=<n> state=<dir>" on standard output once both
 * parts listen. SIGTERM or SIGINT stops the chain (exit 0).
 */
import "reflect-metadata";
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { REDACTED_PATHS, type Logger } from "../src/shared/logger.ts";
import { messageOf } from "../src/shared/errors.ts";
import { readAnchorCertificates, startBenchChain, type BenchChain, type ChainRole, type StaticMode } from "./chain.ts";

interface ChainSettings {
  certDir: string;
  edgePort: number;
  listenerPort: number;
  backendUrl: string | undefined;
  processes: 1 | 2;
  staticMode: StaticMode;
  logLevel: string;
  listenerLogs: boolean;
  stateDir: string | undefined;
}

/** Messages the listener child sends to its parent over IPC. */
type ChildMessage = { ready: true; port: number } | { ready: false; error: string };

class SettingsError extends Error {}

function readPort(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SettingsError(`${name} must be a port from 0 to 65535 (got "${value}")`);
  return port;
}

function readSettings(): ChainSettings {
  const certDir = process.env.ANCHOR_CERT_DIR;
  if (certDir === undefined || certDir === "") throw new SettingsError("ANCHOR_CERT_DIR is not set; point it at a gen-certs.sh folder");
  const processes = process.env.EDGELOCK_BENCH_PROCESSES ?? "2";
  if (processes !== "1" && processes !== "2") throw new SettingsError(`EDGELOCK_BENCH_PROCESSES must be "1" or "2" (got "${processes}")`);
  const staticMode = process.env.EDGELOCK_BENCH_STATIC ?? "fixed";
  if (staticMode !== "fixed" && staticMode !== "lambda") throw new SettingsError(`EDGELOCK_BENCH_STATIC must be "fixed" or "lambda" (got "${staticMode}")`);
  return {
    certDir,
    edgePort: readPort("EDGE_PORT", 8443),
    listenerPort: readPort("ORIGIN_PORT", 9443),
    backendUrl: process.env.ANCHOR_BACKEND_URL || undefined,
    processes: processes === "1" ? 1 : 2,
    staticMode,
    logLevel: process.env.EDGELOCK_BENCH_LOG_LEVEL ?? "info",
    listenerLogs: process.env.EDGELOCK_BENCH_LISTENER_LOGS !== "0",
    stateDir: process.env.EDGELOCK_BENCH_STATE_DIR || undefined,
  };
}

/** Creates a logger that writes JSON lines to `<stateDir>/logs/<role>.log` in 4 KB chunks, as nginx buffers its access log. */
function createFileLogger(stateDir: string, role: ChainRole, level: string): { logger: Logger; flush: () => void } {
  mkdirSync(join(stateDir, "logs"), { recursive: true });
  const destination = pino.destination({ dest: join(stateDir, "logs", `${role}.log`), sync: false, minLength: 4096, mkdir: true });
  const logger = pino({ level, base: { role }, redact: { paths: REDACTED_PATHS }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return { logger, flush: () => destination.flushSync() };
}

/**
 * Waits for SIGTERM or SIGINT (or, in the child, the parent going away). The handlers stay installed, so a second
 * signal, such as run.sh's TERM to the whole process group, cannot end the process before its cleanup.
 */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.on("SIGTERM", () => resolve("SIGTERM"));
    process.on("SIGINT", () => resolve("SIGINT"));
    if (process.send !== undefined) process.once("disconnect", () => resolve("parent exited"));
  });
}

/** Runs the listener child: starts the listener, reports its port, and stops on a signal or when the parent exits. */
async function runListenerChild(settings: ChainSettings, stateDir: string): Promise<void> {
  const { logger, flush } = createFileLogger(stateDir, "listener", settings.logLevel);
  let chain: BenchChain;
  try {
    chain = await startBenchChain({
      role: "listener",
      certificates: readAnchorCertificates(settings.certDir),
      edgePort: 0,
      listenerPort: settings.listenerPort,
      ...(settings.backendUrl === undefined ? {} : { backendUrl: settings.backendUrl }),
      staticMode: settings.staticMode,
      stateDir,
      listenerLogs: settings.listenerLogs,
      logger,
    });
  } catch (error) {
    process.send?.({ ready: false, error: messageOf(error) } satisfies ChildMessage);
    flush();
    process.exit(1);
  }
  process.send?.({ ready: true, port: chain.listenerPort as number } satisfies ChildMessage);
  await stopSignal();
  await chain.close();
  flush();
  process.exit(0);
}

function startListenerChild(stateDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), ["--role", "listener"], {
    env: { ...process.env, EDGELOCK_BENCH_STATE_DIR: stateDir },
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`the listener process exited before it was ready (${signal ?? `exit code ${code}`})`)));
    child.once("message", (message: ChildMessage) => {
      if (message.ready) resolve({ child, port: message.port });
      else reject(new Error(`the listener failed to start: ${message.error}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const temporary = settings.stateDir === undefined;
  const stateDir = settings.stateDir ?? mkdtempSync(join(tmpdir(), "edgelock-bench-chain-"));
  const role = process.argv.includes("--role") ? "listener-child" : "main";
  if (role === "listener-child") {
    await runListenerChild(settings, stateDir);
    return;
  }

  const { logger, flush } = createFileLogger(stateDir, settings.processes === 2 ? "edge" : "both", settings.logLevel);
  let child: ChildProcess | undefined;
  let chain: BenchChain;
  try {
    const certificates = readAnchorCertificates(settings.certDir);
    let listenerPort = settings.listenerPort;
    if (settings.processes === 2) {
      const started = await startListenerChild(stateDir);
      child = started.child;
      listenerPort = started.port;
      child.removeAllListeners("exit");
      child.once("exit", (code, signal) => {
        logger.error({ code, signal }, "the listener process exited; stopping the chain");
        process.kill(process.pid, "SIGTERM");
      });
    }
    chain = await startBenchChain({
      role: settings.processes === 2 ? "edge" : "both",
      certificates,
      edgePort: settings.edgePort,
      listenerPort,
      ...(settings.backendUrl === undefined ? {} : { backendUrl: settings.backendUrl }),
      staticMode: settings.staticMode,
      stateDir,
      listenerLogs: settings.listenerLogs,
      logger,
    });
    chain = { ...chain, listenerPort };
  } catch (error) {
    if (child !== undefined) {
      child.removeAllListeners("exit");
      await stopChild(child);
    }
    flush();
    if (temporary) rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }

  process.stdout.write(
    `chain ready: edge=https://127.0.0.1:${chain.edgePort} listener=https://127.0.0.1:${chain.listenerPort} processes=${settings.processes} state=${stateDir}\n`,
  );
  const signal = await stopSignal();
  logger.info({ signal }, "stopping the bench chain");
  child?.removeAllListeners("exit");
  await chain.close();
  if (child !== undefined) await stopChild(child);
  flush();
  if (temporary) rmSync(stateDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`start-chain: ${error instanceof SettingsError ? error.message : messageOf(error)}\n`);
    process.exit(1);
  },
);
