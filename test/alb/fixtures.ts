/**
 * Shared setup for the listener tests: a PKI made in the test, a listener with an echo Lambda target that counts
 * its invocations, and clients (Node TLS and system curl) that report what came back on the wire.
 */
import "reflect-metadata";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { promisify } from "node:util";
import type { TestContext } from "node:test";
import { createListener, createTrustStore, type Listener, type LoadTrustStoreOptions, type TrustStore } from "../../src/alb/index.ts";
import { albSchema, type AlbConfig } from "../../src/config/schema/alb.ts";
import { localAlbSchema, type LocalAlbConfig } from "../../src/config/schema/local.ts";
import { createEchoHandler } from "../../src/function/echo.ts";
import { createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { createRecordingLogger, type LogRecord } from "../../src/shared/logger.ts";
import { createLambdaTarget, type LambdaHandler } from "../../src/targets/index.ts";

export const runFile = promisify(execFile);
export const HOST = "alb.localhost";
export const TARGET_GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/echo/0123456789abcdef";

/** Creates a temporary folder that is removed after the test. */
export function temporaryFolder(t: { after(fn: () => void): void }): string {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-alb-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** The server side of every listener test: a root CA for the server certificate and the certificate itself. */
export interface ServerPki {
  serverCa: IssuedCertificate;
  server: IssuedCertificate;
}

export async function createServerPki(): Promise<ServerPki> {
  const serverCa = await createRootCa({ commonName: "edgelock test server CA" });
  const server = await issueLeaf(serverCa, { profile: "server", subject: { commonName: HOST }, dnsNames: [HOST], ipAddresses: ["127.0.0.1"] });
  return { serverCa, server };
}

export interface RunningListener {
  listener: Listener;
  logDir: string;
  records: LogRecord[];
  /** Number of times the echo function ran. */
  invocations: () => number;
}

export interface StartOptions {
  pki: ServerPki;
  trustStore: TrustStore;
  /** Files reloadTrustStore() reads again. */
  trustStoreFiles?: LoadTrustStoreOptions;
  alb?: Record<string, unknown>;
  local?: Record<string, unknown>;
  handler?: LambdaHandler;
  multiValueHeaders?: boolean;
}

/** Starts a listener on port 0 with an echo target; the listener is closed after the test. */
export async function startListener(t: TestContext, options: StartOptions): Promise<RunningListener> {
  const alb: AlbConfig = albSchema.parse(options.alb ?? {});
  const local: LocalAlbConfig = localAlbSchema.parse(options.local ?? {});
  const { logger, records } = createRecordingLogger();
  const logDir = temporaryFolder(t);
  let count = 0;
  const echo = options.handler ?? (createEchoHandler() as LambdaHandler);
  const target = createLambdaTarget({
    handler: (event, context) => {
      count++;
      return echo(event, context);
    },
    targetGroupArn: TARGET_GROUP_ARN,
    multiValueHeaders: options.multiValueHeaders ?? false,
    timeoutSeconds: 5,
    local,
    logger,
  });
  const listener = await createListener({
    alb,
    local,
    serverCertificate: { certPem: options.pki.server.certificatePem, keyPem: options.pki.server.privateKeyPem },
    trustStore: options.trustStore,
    trustStoreFiles: options.trustStoreFiles,
    targets: new Map([["echo", target]]),
    logger,
    logDir,
  });
  t.after(() => listener.close());
  return { listener, logDir, records, invocations: () => count };
}

/** Joins PEM blocks, each ending in exactly one newline (our PKI's PEM has none). */
export function joinPem(...pems: string[]): string {
  return pems.map((pem) => `${pem.trimEnd()}\n`).join("");
}

export function trustStoreOf(...certificates: IssuedCertificate[]): TrustStore {
  return createTrustStore({ bundle: joinPem(...certificates.map((certificate) => certificate.certificatePem)) });
}

/** What a client saw: whether TLS completed, the bytes received, and the socket error if any. */
export interface Exchange {
  secureConnected: boolean;
  response: string;
  error: string | undefined;
}

export interface ClientOptions {
  /** PEM chain to present: leaf first. */
  certPem?: string;
  keyPem?: string;
  maxVersion?: "TLSv1.2" | "TLSv1.3";
  /** Raw HTTP/1.1 request. Default a GET of /. */
  request?: string;
  ciphers?: string;
}

/** Connects with Node's TLS client, sends one HTTP/1.1 request and returns everything until the connection ends. */
export function exchange(port: number, pki: ServerPki, options: ClientOptions = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const result: Exchange = { secureConnected: false, response: "", error: undefined };
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: HOST,
      ca: pki.serverCa.certificatePem,
      cert: options.certPem,
      key: options.keyPem,
      maxVersion: options.maxVersion ?? "TLSv1.3",
      ciphers: options.ciphers,
      ALPNProtocols: ["http/1.1"],
    });
    socket.on("secureConnect", () => {
      result.secureConnected = true;
      socket.write(options.request ?? `GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      result.response += chunk.toString("latin1");
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      result.error = error.code ?? error.message;
    });
    socket.on("close", () => resolve(result));
  });
}

/** Waits until the listener's log file has a line containing `text`, and returns that line. */
export async function logLine(logDir: string, file: "connection.log" | "access.log", text: string): Promise<string> {
  const path = join(logDir, file);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (existsSync(path)) {
      const line = readFileSync(path, "utf8").split("\n").find((candidate) => candidate.includes(text));
      if (line !== undefined) return line;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no line containing "${text}" in ${file}:\n${existsSync(path) ? readFileSync(path, "utf8") : "(missing)"}`);
}

/** Writes PEM files for curl and openssl and returns their paths. */
export function writeClientFiles(folder: string, name: string, certificate: IssuedCertificate, chainPems: string[] = []): { cert: string; key: string } {
  const cert = join(folder, `${name}.pem`);
  const key = join(folder, `${name}.key`);
  writeFileSync(cert, joinPem(certificate.certificatePem, ...chainPems));
  writeFileSync(key, certificate.privateKeyPem, { mode: 0o600 });
  return { cert, key };
}

/** Runs system curl against the listener and returns its exit code, body and error output. */
export async function curl(port: number, caFile: string, args: string[], path = "/"): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await runFile("curl", ["-sS", "-m", "10", "--cacert", caFile, "--resolve", `${HOST}:${port}:127.0.0.1`, ...args, `https://${HOST}:${port}${path}`], { encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
