/**
 * `edgelock bench` (= `npm run bench`): edgelock's chain measured against the nginx anchor in one run (keep-alive
 * throughput through the whole chain, full mTLS handshakes at the listener, for RSA-4096 and ECDSA P-256), then
 * micro-benchmarks of token verification, policy evaluation and the function bundle. Results go to
 * docs/benchmarks.md with the machine's details.
 */
import { spawnSync } from "node:child_process";
import { join, relative, resolve } from "node:path";
import { ANCHOR_KEY_TYPES, compareWithNginx, findAnchorDir, meetsTarget, PROJECT_ROOT, runAnchor, type AnchorKeyType, type AnchorResult } from "../../../bench/anchor.ts";
import { describeMachine } from "../../../bench/machine.ts";
import { benchFunctionBundle, type PolicyBenchRow, type TokenBenchResult } from "../../../bench/micro.ts";
import { anchorMarkdown, machineMarkdown, microMarkdown, writeBlocks, type BlockName, type MicroResults } from "../../../bench/report.ts";
import { EdgelockError } from "../../shared/errors.ts";
import { parseFlags, UsageError, type Command, type CommandIo } from "../command.ts";

const DEFAULT_OUTPUT = "docs/benchmarks.md";

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`--${flag} must be a whole number of 1 or more (got "${value}")`);
  return parsed;
}

function parseKeyTypes(value: string | undefined): AnchorKeyType[] {
  if (value === undefined) return [...ANCHOR_KEY_TYPES];
  const keyTypes = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  for (const keyType of keyTypes) {
    if (!(ANCHOR_KEY_TYPES as readonly string[]).includes(keyType)) {
      throw new UsageError(`--key-types takes ${ANCHOR_KEY_TYPES.join(" and ")} (got "${keyType}")`);
    }
  }
  if (keyTypes.length === 0) throw new UsageError("--key-types needs at least one key type, such as ecdsa-p256");
  return keyTypes as AnchorKeyType[];
}

/** Runs one micro-benchmark in a child process, pinned to core 0 when taskset exists, and parses its JSON line. */
function runMicroWorker<T>(nodePath: string, name: string, options: object, io: CommandIo): T {
  const pinned = spawnSync("taskset", ["--version"]).error === undefined;
  const command = pinned ? "taskset" : nodePath;
  const args = [...(pinned ? ["-c", "0", nodePath] : []), "--import", "tsx", join(PROJECT_ROOT, "bench", "micro-worker.ts"), name, JSON.stringify(options)];
  if (!pinned) io.err("taskset is not installed: the micro-benchmark runs unpinned, so its figure may use more than one core");
  const result = spawnSync(command, args, { cwd: PROJECT_ROOT, encoding: "utf8", env: { ...process.env, UV_THREADPOOL_SIZE: "1" } });
  if (result.status !== 0) {
    throw new EdgelockError("ERR_BENCH_MICRO", `micro-benchmark "${name}" failed (exit ${result.status ?? result.signal}): ${(result.stderr || result.error?.message || "").trim()}`);
  }
  return JSON.parse(result.stdout) as T;
}

async function runMicro(nodePath: string, quick: boolean, io: CommandIo): Promise<MicroResults> {
  io.err("micro-benchmarks: token verification (one core)...");
  const tokens = runMicroWorker<TokenBenchResult>(nodePath, "tokens", { durationMs: quick ? 1000 : 5000, concurrency: 16 }, io);
  io.err("micro-benchmarks: policy evaluation with 10 and 10,000 allowed emails...");
  const policy = runMicroWorker<PolicyBenchRow[]>(nodePath, "policy", { sizes: [10, 10_000], iterations: quick ? 50_000 : 200_000, batches: quick ? 3 : 7 }, io);
  io.err("micro-benchmarks: function bundle (esbuild, fresh processes)...");
  const bundle = await benchFunctionBundle({ nodePath, processes: quick ? 2 : 5, invocations: quick ? 500 : 2000 });
  return { tokens, policy, bundle };
}

/** Prints the ratios and the targets they are held to, one line each. */
function printAnchorSummary(result: AnchorResult, io: CommandIo): void {
  io.out("edgelock / nginx:");
  for (const comparison of compareWithNginx(result.cells)) {
    const met = meetsTarget(comparison);
    const target = comparison.target === undefined ? "" : ` (target ${comparison.target.better === "higher" ? ">=" : "<="} ${comparison.target.at}x: ${met === undefined ? "no data" : met ? "met" : "MISSED"})`;
    const ratio = comparison.ratio === null ? "n/a" : `${comparison.ratio.toFixed(2)}x`;
    io.out(`  ${comparison.keytype.padEnd(10)} ${comparison.mode.padEnd(6)} ${comparison.scenario.padEnd(20)} ${comparison.metric.padEnd(5)} ${ratio}${target}`);
  }
}

export const benchCommand: Command = {
  summary: "measure the chain against the nginx anchor, plus token, policy and function micro-benchmarks (npm run bench)",
  help: [
    "Usage: edgelock bench [options]",
    "",
    "Runs the nginx anchor's run.sh with edgelock's chain (bench/start-chain.ts) as a second target, for RSA-4096 and",
    "ECDSA P-256: keep-alive through the whole chain (edge-ka-wrk, 50 connections) and full mTLS handshakes at the",
    "listener (origin-close-wrk, origin-close-tlsload), each for /static and /echo. Then micro-benchmarks: Access",
    "token verifications per second on one core, policy evaluation with 10 and 10,000 allowed emails, and the",
    "function bundle (size, module init in a fresh process, warm invocation). A full run takes about 20 minutes;",
    "installs nginx and wrk with apt-get when they are missing (as root).",
    "",
    "  --quick              one 3-second run per measurement and short micro-benchmarks (a smoke test; the page",
    "                       is not written unless --write is given)",
    "  --key-types LIST     rsa4096,ecdsa-p256 (default both)",
    "  --runs N             repetitions per anchor measurement, median reported (default 3)",
    "  --duration S         seconds per anchor measurement (default 10)",
    "  --quiet-wait S       seconds run.sh waits for other processes to go quiet before each measurement (default 120)",
    "  --processes N        1: edge and listener in one Node process; 2: one process each (default 2)",
    "  --skip-anchor        skip the comparison with nginx",
    "  --skip-micro         skip the micro-benchmarks",
    "  --anchor-dir DIR     folder of run.sh (default ../shared/bench/anchor-nginx beside the project)",
    "  --results DIR        where run.sh writes results.jsonl and summary.md (default bench/results/<time>)",
    "  --cpu-prof DIR       write V8 CPU profiles of the chain's processes to DIR (summarize with bench/profile.ts)",
    `  --output FILE        page to update (default ${DEFAULT_OUTPUT})`,
    "  --write, --no-write  update the page or not (default: write, except with --quick)",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        quick: { type: "boolean" },
        "key-types": { type: "string" },
        runs: { type: "string" },
        duration: { type: "string" },
        "quiet-wait": { type: "string" },
        processes: { type: "string" },
        "skip-anchor": { type: "boolean" },
        "skip-micro": { type: "boolean" },
        "anchor-dir": { type: "string" },
        results: { type: "string" },
        "cpu-prof": { type: "string" },
        output: { type: "string" },
        write: { type: "boolean" },
        "no-write": { type: "boolean" },
      },
      "bench",
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const quick = values.quick === true;
    const keyTypes = parseKeyTypes(values["key-types"]);
    const runs = positiveInteger("runs", values.runs);
    const durationSeconds = positiveInteger("duration", values.duration);
    const quietWaitSeconds = values["quiet-wait"] === undefined ? undefined : Number(values["quiet-wait"]);
    if (quietWaitSeconds !== undefined && !(Number.isInteger(quietWaitSeconds) && quietWaitSeconds >= 0)) {
      throw new UsageError(`--quiet-wait must be a whole number of seconds of 0 or more (got "${values["quiet-wait"]}")`);
    }
    const processes = values.processes ?? "2";
    if (processes !== "1" && processes !== "2") throw new UsageError(`--processes must be 1 or 2 (got "${processes}")`);
    if (values.write === true && values["no-write"] === true) throw new UsageError("--write and --no-write contradict each other; give one");
    let write = !quick;
    if (values.write === true) write = true;
    if (values["no-write"] === true) write = false;
    const output = resolve(values.output ?? join(PROJECT_ROOT, DEFAULT_OUTPUT));
    const nodePath = process.execPath;
    const command = ["npm run bench", ...(args.length > 0 ? ["--", ...args] : [])].join(" ");

    const blocks: Partial<Record<BlockName, string>> = {};
    let anchor: AnchorResult | undefined;
    if (values["skip-anchor"] !== true) {
      const anchorDir = findAnchorDir(values["anchor-dir"]);
      const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
      anchor = await runAnchor({
        anchorDir,
        keyTypes,
        quick,
        ...(runs === undefined ? {} : { runs }),
        ...(durationSeconds === undefined ? {} : { durationSeconds }),
        ...(quietWaitSeconds === undefined ? {} : { quietWaitSeconds }),
        resultsDir: resolve(values.results ?? join(PROJECT_ROOT, "bench", "results", stamp)),
        nodePath,
        processes: processes === "1" ? 1 : 2,
        ...(values["cpu-prof"] === undefined ? {} : { cpuProfileDir: resolve(values["cpu-prof"]) }),
        progress: io.err,
      });
      blocks["bench-anchor"] = anchorMarkdown(anchor);
      printAnchorSummary(anchor, io);
    }

    if (values["skip-micro"] !== true) {
      const micro = await runMicro(nodePath, quick, io);
      blocks["bench-micro"] = microMarkdown(micro);
      io.out("");
      io.out(blocks["bench-micro"]);
    }

    if (Object.keys(blocks).length === 0) {
      io.err("nothing to measure: --skip-anchor and --skip-micro together leave no benchmark");
      return 2;
    }
    if (write) {
      blocks["bench-machine"] = machineMarkdown(describeMachine(nodePath), command);
      writeBlocks(output, blocks);
      io.err(`wrote ${relative(process.cwd(), output) || output}${anchor === undefined ? "" : `; run.sh results in ${relative(process.cwd(), anchor.resultsDir)}`}`);
    }
    return 0;
  },
};
