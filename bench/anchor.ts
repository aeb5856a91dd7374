/**
 * Runs the nginx anchor (run.sh of the anchor-nginx benchmark) with edgelock's chain as a second target, so both
 * chains are measured in one invocation, interleaved, with the same load generators, and reads back the medians.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { EdgelockError } from "../src/shared/errors.ts";

const execFileAsync = promisify(execFile);

/** The project folder: bench/ sits directly under it. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Scenarios the bench runs: keep-alive throughput through the whole chain, and full mTLS handshakes at the listener. */
export const ANCHOR_SCENARIOS = ["edge-ka-wrk", "origin-close-wrk", "origin-close-tlsload"] as const;

/** Key types of the anchor's PKI. */
export const ANCHOR_KEY_TYPES = ["rsa4096", "ecdsa-p256"] as const;
export type AnchorKeyType = (typeof ANCHOR_KEY_TYPES)[number];

/** The name edgelock's chain has in the anchor's tables. */
export const TARGET_NAME = "edgelock";

export interface AnchorRunOptions {
  /** Folder that contains run.sh. */
  anchorDir: string;
  keyTypes: readonly AnchorKeyType[];
  /** run.sh --quick: one run of 3 s per measurement. */
  quick: boolean;
  /** Repetitions per measurement (run.sh --runs); ignored with quick. Default: run.sh's 3. */
  runs?: number;
  /** Seconds per measurement (run.sh --duration); ignored with quick. Default: run.sh's 10. */
  durationSeconds?: number;
  /** Seconds run.sh waits for other processes to go quiet before each measurement. Default: run.sh's 120. */
  quietWaitSeconds?: number;
  /** Folder for results.jsonl, summary.md and meta.txt. */
  resultsDir: string;
  /** Node binary for the chain (and for run.sh's own Node tools, through PATH). */
  nodePath: string;
  /** "1" or "2" processes for the chain. */
  processes: 1 | 2;
  /** Folder for CPU profiles of the chain's processes; undefined for none. */
  cpuProfileDir?: string;
  /** Receives run.sh's output lines. */
  progress: (line: string) => void;
}

/** One (key type, mode, scenario, target) cell of summarize.mjs --json. */
export interface AnchorCell {
  keytype: string;
  mode: string;
  scenario: string;
  target: string;
  connections: number;
  runs: number;
  failed_runs: number;
  rps: number | null;
  rps_min: number | null;
  rps_max: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  proxy_cpu_us_per_req: number | null;
  gen_cpu_pct: number | null;
  errors: number;
  contaminated_runs: number;
  other_cpu_pct_max: number;
}

export interface AnchorResult {
  cells: AnchorCell[];
  /** Folder of run.sh. */
  anchorDir: string;
  resultsDir: string;
  /** run.sh's meta.txt: date, host, versions, parameters. */
  meta: string;
  /** The run.sh command line, for the report. */
  command: string;
}

/** Finds run.sh: the given folder, else ../shared/bench/anchor-nginx beside the project. */
export function findAnchorDir(given: string | undefined): string {
  const candidates = given === undefined ? [resolve(PROJECT_ROOT, "..", "shared", "bench", "anchor-nginx")] : [resolve(given)];
  for (const candidate of candidates) {
    if (existsSync(join(candidate, "run.sh"))) return candidate;
  }
  throw new EdgelockError(
    "ERR_BENCH_ANCHOR",
    `the nginx anchor's run.sh is not in ${candidates.join(" or ")}; clone the shared folder beside the project, pass --anchor-dir DIR, or use --skip-anchor`,
  );
}

/** Returns `count` distinct free TCP ports on 127.0.0.1, each held open until all are known. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((done, fail) => {
      const server = createServer();
      server.once("error", fail);
      server.listen(0, "127.0.0.1", () => done(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** Builds run.sh's arguments for both chains. */
export function anchorArguments(options: AnchorRunOptions, ports: { nginx: number[]; edge: number; listener: number }): string[] {
  const profile = options.cpuProfileDir === undefined ? "" : `--cpu-prof --cpu-prof-dir=${shellQuote(options.cpuProfileDir)} `;
  const start =
    `cd ${shellQuote(PROJECT_ROOT)} && EDGE_PORT=${ports.edge} ORIGIN_PORT=${ports.listener} EDGELOCK_BENCH_PROCESSES=${options.processes} ` +
    `exec ${shellQuote(options.nodePath)} ${profile}--import tsx bench/start-chain.ts`;
  const args = [
    join(options.anchorDir, "run.sh"),
    "--key-types", options.keyTypes.join(","),
    "--scenarios", ANCHOR_SCENARIOS.join(","),
    "--modes", "static,echo",
    "--ports", ports.nginx.join(","),
    "--results", options.resultsDir,
    "--target", `${TARGET_NAME}=https://127.0.0.1:${ports.edge},https://127.0.0.1:${ports.listener}`,
    "--target-start", `${TARGET_NAME}=${start}`,
  ];
  if (options.quick) args.push("--quick");
  else {
    if (options.runs !== undefined) args.push("--runs", String(options.runs));
    if (options.durationSeconds !== undefined) args.push("--duration", String(options.durationSeconds));
  }
  if (options.quietWaitSeconds !== undefined) args.push("--quiet-wait", String(options.quietWaitSeconds));
  return args;
}

/** Runs run.sh to the end and returns its median table; throws ERR_BENCH_ANCHOR when it fails. */
export async function runAnchor(options: AnchorRunOptions): Promise<AnchorResult> {
  mkdirSync(options.resultsDir, { recursive: true });
  const [edge, listener, ...nginx] = await freePorts(5);
  const args = anchorArguments(options, { nginx, edge: edge as number, listener: listener as number });
  const command = `bash ${args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : shellQuote(arg))).join(" ")}`;
  options.progress(`running: ${command}`);

  // run.sh calls `node` for its backend and load tools: the same Node as the chain's.
  const env = { ...process.env, PATH: `${dirname(options.nodePath)}:${process.env.PATH ?? ""}` };
  const child = spawn("bash", args, { cwd: options.anchorDir, env, stdio: ["ignore", "pipe", "pipe"] });
  const forward = (stream: NodeJS.ReadableStream) => createInterface({ input: stream }).on("line", options.progress);
  forward(child.stdout);
  forward(child.stderr);
  const code = await new Promise<number>((done) => child.once("close", (status) => done(status ?? 1)));
  if (code !== 0) {
    throw new EdgelockError("ERR_BENCH_ANCHOR", `run.sh failed with exit code ${code}; see its output above for the cause (results so far: ${options.resultsDir})`);
  }

  const { stdout } = await execFileAsync(options.nodePath, [join(options.anchorDir, "summarize.mjs"), "--json", join(options.resultsDir, "results.jsonl")], { maxBuffer: 16 * 1024 * 1024 });
  return {
    cells: JSON.parse(stdout) as AnchorCell[],
    anchorDir: options.anchorDir,
    resultsDir: options.resultsDir,
    meta: readFileSync(join(options.resultsDir, "meta.txt"), "utf8"),
    command,
  };
}

/** A ratio edgelock / nginx of one metric in one cell, with the target it is held to. */
export interface AnchorComparison {
  keytype: string;
  mode: string;
  scenario: string;
  metric: "req/s" | "p50" | "p99";
  nginx: number | null;
  edgelock: number | null;
  ratio: number | null;
  /** The target ratio and its direction; undefined for figures reported without a target. */
  target?: { at: number; better: "higher" | "lower" };
}

/** Pairs edgelock's cells with nginx's and computes the ratios the report shows. */
export function compareWithNginx(cells: readonly AnchorCell[]): AnchorComparison[] {
  const comparisons: AnchorComparison[] = [];
  const ours = cells.filter((cell) => cell.target === TARGET_NAME);
  for (const cell of ours) {
    const nginx = cells.find((other) => other.target === "nginx" && other.keytype === cell.keytype && other.mode === cell.mode && other.scenario === cell.scenario);
    const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || b === 0 ? null : a / b);
    const base = { keytype: cell.keytype, mode: cell.mode, scenario: cell.scenario };
    if (cell.scenario === "edge-ka-wrk") {
      comparisons.push({ ...base, metric: "req/s", nginx: nginx?.rps ?? null, edgelock: cell.rps, ratio: ratio(cell.rps, nginx?.rps), target: { at: 0.6, better: "higher" } });
      comparisons.push({ ...base, metric: "p50", nginx: nginx?.p50_ms ?? null, edgelock: cell.p50_ms, ratio: ratio(cell.p50_ms, nginx?.p50_ms) });
      comparisons.push({ ...base, metric: "p99", nginx: nginx?.p99_ms ?? null, edgelock: cell.p99_ms, ratio: ratio(cell.p99_ms, nginx?.p99_ms), target: { at: 1.5, better: "lower" } });
    } else {
      // A full mTLS handshake per request: req/s is handshakes per second at the listener.
      comparisons.push({ ...base, metric: "req/s", nginx: nginx?.rps ?? null, edgelock: cell.rps, ratio: ratio(cell.rps, nginx?.rps), target: { at: 0.8, better: "higher" } });
    }
  }
  return comparisons;
}

/** Returns true, false, or undefined when the ratio is missing or has no target. */
export function meetsTarget(comparison: AnchorComparison): boolean | undefined {
  if (comparison.target === undefined || comparison.ratio === null) return undefined;
  return comparison.target.better === "higher" ? comparison.ratio >= comparison.target.at : comparison.ratio <= comparison.target.at;
}
