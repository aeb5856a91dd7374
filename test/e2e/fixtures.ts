/**
 * Fixtures for the end-to-end tests. They start the whole local stack from the default configuration in a fresh
 * temporary folder on ports 0. Clients are an HTTPS client with a cookie jar that trusts the stack's local CA,
 * and the system curl and openssl. Polling helpers wait for log lines and other conditions.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, request } from "undici";
import { defaultConfigInput, parseConfig, type LoadedConfig } from "../../src/config/index.ts";
import { createRecordingLogger, type LogRecord } from "../../src/shared/logger.ts";
import { startStack, type RunningStack } from "../../src/stack/stack.ts";

/** The five headers a verify-mode listener adds, with their default names as the target receives them (lowercase). */
export const MTLS_HEADERS = [
  "x-amzn-mtls-clientcert-serial-number",
  "x-amzn-mtls-clientcert-issuer",
  "x-amzn-mtls-clientcert-subject",
  "x-amzn-mtls-clientcert-validity",
  "x-amzn-mtls-clientcert-leaf",
];

/** The part of `node:test`'s context the fixtures use. */
export interface Cleanup {
  after(fn: () => void | Promise<void>): void;
}

/** Creates a temporary folder that is removed when the test ends. */
export function temporaryFolder(t: Cleanup, prefix = "edgelock-e2e-"): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** A configuration input as JSON, open to edits by a test before it is validated. */
export type ConfigInput = Record<string, any>;

/** Returns the default configuration input with the state folder and the PKI folder inside `dir`. */
export function defaultInput(dir: string): ConfigInput {
  const input: ConfigInput = structuredClone(defaultConfigInput());
  delete input.$schema;
  input.local = { stateDir: join(dir, "state") };
  // pki.dir does not follow local.stateDir, so it is moved explicitly to keep all state in one folder.
  input.pki = { dir: join(dir, "state", "pki") };
  return input;
}

/** Sets `targets.echo.requireAccessToken` to false: the reference deployment's echo function. */
export function withoutAccessToken(input: ConfigInput): void {
  input.targets = { echo: { type: "lambda", handler: "echo", requireAccessToken: false } };
}

export interface StackFixtureOptions {
  /** Folder of the configuration and the state. Default: a fresh temporary folder. */
  dir?: string;
  /** Edits the default configuration input before it is validated. */
  configure?: (input: ConfigInput) => void;
  /** The edge's clock. Default: the system clock. */
  now?: () => Date;
  /** Ports; 0 (the default) picks free ones. */
  edgePort?: number;
  listenerPort?: number;
}

export interface StackFixture {
  stack: RunningStack;
  loaded: LoadedConfig;
  dir: string;
  records: LogRecord[];
  /** PINs the edge reported through onPinSent, newest last. */
  pins: { email: string; pin: string; emlPath: string }[];
  /** Stops the stack; safe to call twice, and called when the test ends. */
  close(): Promise<void>;
  /** Paths for curl: the local CA and the origin-pull client certificate and key. */
  files: { localCa: string; originPullCert: string; originPullKey: string };
}

/** Starts the whole stack from the default configuration; it is closed when the test ends. */
export async function startTestStack(t: Cleanup, options: StackFixtureOptions = {}): Promise<StackFixture> {
  const dir = options.dir ?? temporaryFolder(t);
  const input = defaultInput(dir);
  options.configure?.(input);
  const loaded: LoadedConfig = { config: parseConfig(input), file: join(dir, "edgelock.config.json"), baseDir: dir };
  const { logger, records } = createRecordingLogger();
  const pins: StackFixture["pins"] = [];

  const stack = await startStack(loaded, {
    logger,
    edgePort: options.edgePort ?? 0,
    listenerPort: options.listenerPort ?? 0,
    onPinSent: (email, pin, emlPath) => pins.push({ email, pin, emlPath }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= stack.close());
  t.after(close);

  const { prepared } = stack;
  const originPull = prepared.originPull.info.name;
  return {
    stack,
    loaded,
    dir,
    records,
    pins,
    close,
    files: { localCa: prepared.localCa.paths.caCert, originPullCert: prepared.pki.paths.certificate(originPull), originPullKey: prepared.pki.paths.key(originPull) },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTPS client that trusts the stack's local CA, connects to 127.0.0.1 whatever the host name (glibc does not
 * resolve *.localhost), and keeps host-only cookies per host name, as a browser does.
 */
export class StackClient {
  readonly jar = new Map<string, Map<string, string>>();
  private readonly agent: Agent;

  constructor(t: Cleanup, caPem: string) {
    this.agent = new Agent({ connect: { ca: caPem, lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }]) } });
    t.after(() => this.agent.close());
  }

  /** Returns the cookie `name` stored for `host`. */
  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }

  /** Sends one request with the jar's cookies for the host and stores the cookies the response sets. */
  async send(url: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<Reply> {
    const target = new URL(url);
    const cookies = this.jar.get(target.hostname) ?? new Map<string, string>();
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const body = init.form === undefined ? undefined : new URLSearchParams(init.form).toString();
    if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";

    const method = init.method ?? (body === undefined ? "GET" : "POST");
    const response = await request(url, { dispatcher: this.agent, method: method as "GET", headers, ...(body === undefined ? {} : { body }) });
    const text = await response.body.text();
    this.store(target.hostname, response.headers["set-cookie"]);
    return { status: response.statusCode, headers: response.headers, body: text };
  }

  /** Follows redirects from `url` (at most 10) and returns every response in order. */
  async follow(url: string, init: { headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<Reply[]> {
    const replies = [await this.send(url, init)];
    for (let hop = 0; hop < 10; hop++) {
      const last = replies.at(-1) as Reply;
      if (last.status < 300 || last.status > 399) break;
      url = new URL(String(last.headers.location), url).href;
      replies.push(await this.send(url, { ...(init.headers === undefined ? {} : { headers: init.headers }) }));
    }
    return replies;
  }

  private store(host: string, header: string | string[] | undefined): void {
    const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
    for (const line of lines) {
      const [pair = ""] = line.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      if (!this.jar.has(host)) this.jar.set(host, new Map());
      if (/Expires=Thu, 01 Jan 1970/i.test(line)) this.jar.get(host)?.delete(name);
      else this.jar.get(host)?.set(name, pair.slice(separator + 1));
    }
  }
}

/** Returns the hidden `flow` field of the PIN form. */
export function flowField(html: string): string {
  const match = /name="flow" value="([^"]*)"/.exec(html);
  assert.ok(match?.[1], "the PIN page has a flow field");
  return match[1];
}

/** Reads the PIN out of an .eml file: the one indented line of digits in the body. */
export function pinFromEml(path: string): string {
  const text = readFileSync(path, "utf8");
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  const match = /^\s+(\d{4,10})\s*$/m.exec(body);
  assert.ok(match?.[1], `the message ${path} contains a PIN`);
  return match[1];
}

/** Returns the .eml files in the stack's outbox, oldest name first. */
export function outboxFiles(fixture: StackFixture): string[] {
  const folder = fixture.stack.prepared.layout.outboxDir;
  if (!existsSync(folder)) return [];
  return readdirSync(folder).filter((name) => name.endsWith(".eml")).sort().map((name) => join(folder, name));
}

/**
 * Logs `email` in through the one-time PIN flow over HTTP and returns the app token the edge set. The PIN is
 * read from the newest .eml in the outbox, as a user would.
 */
export async function loginOverHttp(fixture: StackFixture, client: StackClient, email: string): Promise<string> {
  const first = await client.send(`${fixture.stack.urls.app}/`);
  assert.equal(first.status, 302);
  const loginUrl = String(first.headers.location);
  const before = outboxFiles(fixture).length;
  await client.send(loginUrl);
  const pinPage = await client.send(loginUrl, { form: { step: "email", email } });
  const files = outboxFiles(fixture);
  assert.equal(files.length, before + 1, "one new message in the outbox");

  const hops = await client.follow(loginUrl, { form: { step: "pin", flow: flowField(pinPage.body), pin: pinFromEml(files.at(-1) as string) } });
  assert.equal(hops.at(-1)?.status, 200, "the login ends at the app");
  const token = client.cookie("app.localhost", "CF_Authorization");
  assert.ok(token, "the edge set the app cookie");
  return token;
}

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program without a shell and resolves with its exit code and output, also on failure. Asynchronous on
 * purpose: the stack runs in this process, and a synchronous child would block it.
 */
export function run(file: string, args: string[], options: { cwd?: string } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "utf8", timeout: 30_000, ...options }, (error, stdout, stderr) => {
      let code = 0;
      if (error !== null) code = typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the system curl with a timeout of 10 seconds. */
export function curl(args: string[]): Promise<ProcessResult> {
  return run("curl", ["--silent", "--show-error", "--max-time", "10", ...args]);
}

/**
 * Checks that curl got a TCP reset and no HTTP response, as from an ALB that rejects the client certificate.
 * Under TLS 1.3 the client finishes its handshake and sends the request before the reset arrives, so curl
 * exits with 56 (receive failure), as on a real ALB. NOTE: the local listener resets as soon as it has checked
 * the certificate. On a loaded machine the reset can arrive while curl is still sending, and curl then exits
 * with 55 (send failure), or 16 when that happens during the HTTP/2 connection preface.
 */
export function assertResetWithoutResponse(result: ProcessResult): void {
  assert.ok([16, 55, 56].includes(result.code), `curl exit code ${result.code}: ${result.stderr}`);
  assert.match(result.stderr, /Connection reset by peer/);
  assert.equal(result.stdout, "", "no HTTP response body");
  assert.doesNotMatch(result.stderr, /^< HTTP\//m, "no HTTP status line");
}

/** Polls `condition` every 20 ms until it returns a value other than undefined or false; fails after `seconds`. */
export async function waitFor<T>(what: string, condition: () => T | undefined | false, seconds = 15): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits for a line containing `text` in one of the stack's log files and returns it. */
export function logLine(fixture: StackFixture, file: "connection.log" | "access.log", text: string): Promise<string> {
  const path = join(fixture.stack.prepared.layout.logDir, file);
  return waitFor(`"${text}" in ${file}`, () => (existsSync(path) ? readFileSync(path, "utf8").split("\n").find((line) => line.includes(text)) : undefined));
}

/** Returns a header's single value. */
export function headerValue(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
