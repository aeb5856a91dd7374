/**
 * Fixtures for the check tests. A configuration file in a temporary folder has a service token "ci" behind a
 * Service Auth policy. A local stack starts from it, in this process or in a child process, and `runCli` runs
 * `edgelock check` through `main` with captured output.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openServiceTokenStore } from "../../src/access/index.ts";
import { main } from "../../src/cli/main.ts";
import { defaultConfigInput, loadConfig } from "../../src/config/index.ts";
import { createSilentLogger } from "../../src/shared/logger.ts";
import { startStack, type RunningStack } from "../../src/stack/stack.ts";

type Cleanup = { after(fn: () => Promise<void> | void): void };

/** Creates a temporary folder that is removed when the test ends. */
export function temporaryFolder(t: Cleanup): string {
  const folder = mkdtempSync(join(tmpdir(), "edgelock-check-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/**
 * Writes edgelock.config.json into `dir`: the default configuration with its state and PKI under `dir/state`, a
 * Service Auth policy for the token "ci", and `change` applied last. Returns the file's path.
 */
export function writeConfig(dir: string, change: (input: Record<string, any>) => void = () => {}): string {
  const input = defaultConfigInput() as Record<string, any>;
  delete input.$schema;
  input.local = { stateDir: "state" };
  input.pki = { dir: "state/pki" };
  input.access.serviceTokens = [{ name: "ci" }];
  input.access.applications[0].policies.unshift({ name: "ci", decision: "non_identity", include: [{ serviceToken: "ci" }] });
  change(input);
  const file = join(dir, "edgelock.config.json");
  writeFileSync(file, JSON.stringify(input, null, 2));
  return file;
}

export interface TestStack {
  stack: RunningStack;
  configFile: string;
  token: { clientId: string; clientSecret: string };
}

/** Starts a stack in this process from a configuration written by `writeConfig`; stopped when the test ends. */
export async function startTestStack(t: Cleanup, dir: string, change?: (input: Record<string, any>) => void): Promise<TestStack> {
  const configFile = writeConfig(dir, change);
  const stack = await startStack(loadConfig(configFile), { logger: createSilentLogger(), edgePort: 0, listenerPort: 0 });
  t.after(() => stack.close());
  const token = openServiceTokenStore(stack.prepared.layout.serviceTokensFile).create("ci", { durationSeconds: 3600 });
  return { stack, configFile, token };
}

export interface ChildStack {
  urls: RunningStack["urls"];
  configFile: string;
  token: { clientId: string; clientSecret: string };
}

/** Starts a stack in a child process (stack-process.mts); stopped when the test ends. */
export async function startChildStack(t: Cleanup, dir: string): Promise<ChildStack> {
  const configFile = writeConfig(dir);
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "stack-process.mts"), configFile], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  t.after(async () => {
    child.stdin.end();
    await exited;
  });

  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the stack process exited with code ${code} before it printed its URLs`)));
  });
  const started = JSON.parse(first) as { urls: RunningStack["urls"]; clientId: string; clientSecret: string };
  return { urls: started.urls, configFile, token: { clientId: started.clientId, clientSecret: started.clientSecret } };
}

/** Returns the command line that checks a stack, with its service token unless `withToken` is false. */
export function checkArgs(target: { urls: RunningStack["urls"]; configFile: string; token: { clientId: string; clientSecret: string } }, withToken = true): string[] {
  const args = ["check", "--config", target.configFile, "--app", target.urls.app, "--origin", target.urls.listener];
  if (withToken) args.push("--service-token-id", target.token.clientId, "--service-token-secret", target.token.clientSecret);
  return args;
}

/** Runs the CLI and captures its output lines. */
export async function runCli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

export interface JsonCheck {
  id: number;
  name: string;
  status: string;
  reason: string;
  details: Record<string, unknown>;
}

/** Runs `edgelock check --json` and returns the exit code and the parsed report. */
export async function runCheckJson(args: string[]): Promise<{ code: number; report: { ok: boolean; checks: JsonCheck[]; summary: Record<string, number>; teamDomain: string | null; connections: { host: string; port: number }[] } }> {
  const { code, out, err } = await runCli([...args, "--json"]);
  assert.deepEqual(err, [], "check --json writes nothing to standard error");
  return { code, report: JSON.parse(out.join("\n")) };
}

/** Returns check `id` of a report, failing the test when it is missing. */
export function checkOf(report: { checks: JsonCheck[] }, id: number): JsonCheck {
  const check = report.checks.find((entry) => entry.id === id);
  assert.ok(check, `the report has check ${id}`);
  return check;
}
