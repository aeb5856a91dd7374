/**
 * `edgelock up` as a user runs it: a child process in its own working folder with --config pointing at a
 * configuration whose ports the test picked. Covered: the banner and its curl commands, Ctrl-C (SIGINT) with a
 * request in flight, a port already in use, and an invalid configuration file.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertResetWithoutResponse, defaultInput, run, temporaryFolder, waitFor, type Cleanup, type ConfigInput, type ProcessResult } from "./fixtures.ts";

const BIN = fileURLToPath(new URL("../../bin/edgelock.js", import.meta.url));

/** Binds a TCP server to 127.0.0.1 on a free port and returns it, for the test to keep or close. */
async function bindFreePort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

function portOf(server: Server): number {
  return (server.address() as { port: number }).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Returns two ports that were free a moment ago. */
async function freePorts(): Promise<{ edge: number; listener: number }> {
  const servers = [await bindFreePort(), await bindFreePort()];
  const [edge, listener] = servers.map(portOf) as [number, number];
  await Promise.all(servers.map(closeServer));
  return { edge, listener };
}

/** Writes the default configuration, with relative state paths, the given ports and edits, to `dir`. */
function writeConfig(dir: string, ports: { edge: number; listener: number }, edit: (input: ConfigInput) => void = () => {}): string {
  const input = defaultInput(dir);
  input.local = { stateDir: "state", edge: { port: ports.edge }, alb: { port: ports.listener } };
  input.pki = { dir: "state/pki" };
  edit(input);
  const file = join(dir, "edgelock.config.json");
  writeFileSync(file, `${JSON.stringify(input, null, 2)}\n`);
  return file;
}

/** A running `edgelock up` child process and everything it has written so far. */
interface UpProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

function startUp(t: Cleanup, cwd: string, args: string[]): UpProcess {
  const child = spawn(process.execPath, [BIN, "up", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, EDGELOCK_LOG_LEVEL: "info" } });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Returns the lines the CLI printed as its own messages (not log lines), such as "edgelock up: ...". */
function cliMessages(output: string): string[] {
  return output.split("\n").filter((line) => line.startsWith("edgelock up:"));
}

/** Runs the system curl in `dir`, so relative paths from the banner resolve as they do for the user. */
function runCurlIn(dir: string, args: string[]): ReturnType<typeof run> {
  return run("curl", ["--silent", "--show-error", "--max-time", "20", ...args], { cwd: dir });
}

/** A Lambda handler that records its start and waits for a release file, so a request stays in flight. */
const SLOW_HANDLER = `import { existsSync, writeFileSync } from "node:fs";
export async function handler(event) {
  writeFileSync(new URL("./slow-started", import.meta.url), "");
  while (!existsSync(new URL("./slow-release", import.meta.url))) await new Promise((resolve) => setTimeout(resolve, 20));
  return { statusCode: 200, statusDescription: "200 OK", headers: { "content-type": "text/plain" }, body: "finished " + event.path, isBase64Encoded: false };
}
`;

test("up banner, curl checks and SIGINT", async (t) => {
  const dir = temporaryFolder(t);
  const ports = await freePorts();
  writeFileSync(join(dir, "slow-handler.mjs"), SLOW_HANDLER);
  const config = writeConfig(dir, ports, (input) => {
    input.targets = { echo: { type: "lambda", handler: "echo" }, slow: { type: "lambda", handler: "./slow-handler.mjs", timeoutSeconds: 30 } };
    input.alb = {
      rules: [
        { priority: 10, conditions: { pathPattern: ["/slow"] }, action: { forward: "slow" } },
        { priority: 100, conditions: { pathPattern: ["/*"] }, action: { forward: "echo" } },
      ],
    };
  });

  const up = startUp(t, dir, ["--config", config]);
  await waitFor("the banner", () => up.stdout().includes("Press Ctrl-C to stop.") || up.child.exitCode !== null);
  assert.equal(up.child.exitCode, null, `edgelock up exited early: ${up.stderr()}`);

  const banner = up.stdout();
  assert.ok(banner.includes(`App (log in here):    https://app.localhost:${ports.edge}/`), banner);
  assert.ok(banner.includes(`Team domain:          https://team.localhost:${ports.edge}/cdn-cgi/access/certs`), banner);
  assert.ok(banner.includes(`Listener (origin):    https://alb.localhost:${ports.listener}/`), banner);
  assert.ok(banner.includes("Trust this CA:        state/local-ca/ca/cert.pem"), banner);
  assert.match(banner, /^Created: mTLS root CA, client certificate "origin-pull", local CA, server certificate "edge", server certificate "listener"\.$/m);
  assert.ok(existsSync(join(dir, "state", "stack.pid")), "the pid file exists while the stack runs");

  // The three curl commands of the banner, run from the same folder as the user would.
  const commands = banner.split("\n").filter((line) => line.trimStart().startsWith("curl ")).map((line) => line.trim().split(" ").slice(1));
  assert.equal(commands.length, 3, banner);
  const [noCertificate, withCertificate, throughEdge] = await Promise.all(commands.map((args) => runCurlIn(dir, args)));
  assertResetWithoutResponse(noCertificate as ProcessResult);
  assert.equal(withCertificate?.code, 0, withCertificate?.stderr);
  assert.equal(JSON.parse(withCertificate?.stdout ?? "").error, "access_token_invalid");
  assert.equal(throughEdge?.code, 0, throughEdge?.stderr);
  assert.match(throughEdge?.stdout ?? "", /^HTTP\/2 302 \r\n/);

  // A request is in flight in the slow handler when SIGINT arrives; it must still finish.
  const certificateArgs = (commands[1] as string[]).slice(0, -1);
  const inFlight = runCurlIn(dir, [...certificateArgs, `https://alb.localhost:${ports.listener}/slow`]);
  await waitFor("the slow handler to start", () => existsSync(join(dir, "slow-started")));
  up.child.kill("SIGINT");
  await waitFor("the shutdown message", () => up.stderr().includes("SIGINT received"));
  writeFileSync(join(dir, "slow-release"), "");
  const slow = await inFlight;
  const code = await up.exited;

  assert.equal(slow.code, 0, slow.stderr);
  assert.equal(slow.stdout, "finished /slow");
  assert.equal(code, 0, up.stderr());
  assert.deepEqual(cliMessages(up.stderr()), []);
  assert.equal(existsSync(join(dir, "state", "stack.pid")), false, "the pid file is removed on exit");
  for (const port of [ports.edge, ports.listener]) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await closeServer(server);
  }
});

for (const busy of ["edge", "listener"] as const) {
  test(`up with busy ${busy} port`, async (t) => {
    const dir = temporaryFolder(t);
    const blocker = await bindFreePort();
    t.after(() => closeServer(blocker));
    const other = await freePorts();
    const ports = busy === "edge" ? { edge: portOf(blocker), listener: other.listener } : { edge: other.edge, listener: portOf(blocker) };
    const config = writeConfig(dir, ports);

    const up = startUp(t, dir, ["--config", config]);
    const code = await up.exited;

    assert.equal(code, 1);
    // NOTE: the edge reports its busy port itself, in other words than the CLI uses for the listener's port.
    const expected =
      busy === "edge"
        ? `edgelock up: the edge cannot listen on 127.0.0.1:${portOf(blocker)} (EADDRINUSE); free the port or set local.edge.port`
        : `edgelock up: port ${portOf(blocker)} is already in use (another "edgelock up"?). Stop the other process, or set local.alb.port in edgelock.config.json to a free port.`;
    assert.deepEqual(cliMessages(up.stderr()), [expected]);
    assert.doesNotMatch(up.stderr(), /^\s+at /m, "no stack trace");
    assert.equal(up.stdout(), "", "no banner");
  });
}

test("up with invalid config", async (t) => {
  const dir = temporaryFolder(t);
  const config = writeConfig(dir, await freePorts(), (input) => {
    input.local.edge.port = 70000;
    input.access.applications[0].policies[0].include[0] = { emailDomain: "@example.com" };
  });

  const up = startUp(t, dir, ["--config", config]);
  const code = await up.exited;

  assert.equal(code, 1);
  const [message, ...rest] = cliMessages(up.stderr());
  assert.equal(rest.length, 0, up.stderr());
  assert.equal(message, `edgelock up: ${config} is invalid (2 problems):`);
  assert.match(up.stderr(), /^ {2}"access\.applications\[0\]\.policies\[0\]\.include\[0\]\.emailDomain": .+$/m);
  assert.match(up.stderr(), /^ {2}"local\.edge\.port": .+$/m);
  assert.doesNotMatch(up.stderr(), /^\s+at /m, "no stack trace");
  assert.equal(up.stdout(), "");
  assert.equal(existsSync(join(dir, "state")), false, "nothing is created from an invalid configuration");
});

test("up with malformed JSON", async (t) => {
  const dir = temporaryFolder(t);
  const config = join(dir, "edgelock.config.json");
  writeFileSync(config, '{ "access": { ');

  const up = startUp(t, dir, ["--config", config]);
  const code = await up.exited;

  assert.equal(code, 1);
  const messages = cliMessages(up.stderr());
  assert.equal(messages.length, 1, up.stderr());
  assert.match(messages[0] ?? "", new RegExp(`^edgelock up: ${config.replaceAll("/", "\\/")} is not valid JSON: `));
});
