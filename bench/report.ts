/**
 * Writes benchmark results into docs/benchmarks.md. The page has hand-written text around generated blocks, each
 * between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. Only the blocks of the parts that ran are replaced, so a
 * run with --skip-anchor keeps the last anchor figures.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../src/shared/fs-atomic.ts";
import { compareWithNginx, meetsTarget, PROJECT_ROOT, type AnchorComparison, type AnchorResult } from "./anchor.ts";
import type { MachineInfo } from "./machine.ts";
import type { FunctionBenchResult, PolicyBenchRow, TokenBenchResult } from "./micro.ts";

/** Generated blocks of the page. */
export type BlockName = "bench-machine" | "bench-anchor" | "bench-micro" | "soak";

const PAGE_SKELETON = `# Benchmarks

<!-- bench-machine:begin -->
<!-- bench-machine:end -->

## edgelock against the nginx anchor

<!-- bench-anchor:begin -->
<!-- bench-anchor:end -->

## Micro-benchmarks

<!-- bench-micro:begin -->
<!-- bench-micro:end -->

## Soak

<!-- soak:begin -->
<!-- soak:end -->
`;

/** Replaces the block `name` of `page` with `content`; appends the block when the page lacks it. */
export function replaceBlock(page: string, name: BlockName, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${content.trimEnd()}\n${end}`;
  const start = page.indexOf(begin);
  const stop = page.indexOf(end);
  if (start === -1 || stop === -1 || stop < start) return `${page.trimEnd()}\n\n${block}\n`;
  return `${page.slice(0, start)}${block}${page.slice(stop + end.length)}`;
}

/** Writes the given blocks into the page at `file`, creating the page from a skeleton when it does not exist. */
export function writeBlocks(file: string, blocks: Partial<Record<BlockName, string>>): void {
  let page = existsSync(file) ? readFileSync(file, "utf8") : PAGE_SKELETON;
  for (const [name, content] of Object.entries(blocks) as [BlockName, string][]) page = replaceBlock(page, name, content);
  writeFileAtomic(file, page);
}

const number = (value: number | null | undefined, digits = 0): string =>
  value == null || !Number.isFinite(value) ? "–" : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function verdict(met: boolean | undefined): string {
  if (met === undefined) return "–";
  return met ? "met" : "**missed**";
}

/** Formats the machine block: where and when the figures were measured. */
export function machineMarkdown(machine: MachineInfo, command: string): string {
  return [
    `Measured ${machine.date.slice(0, 16).replace("T", " ")} UTC with \`${command}\` at commit ${machine.commit} on:`,
    "",
    "| | |",
    "|---|---|",
    `| CPU | ${machine.cpuModel}, ${machine.cores} cores |`,
    `| kernel | ${machine.kernel} |`,
    `| Node | ${machine.node} (OpenSSL ${machine.openssl}) |`,
    `| nginx | ${machine.nginx} (system OpenSSL ${machine.systemOpenssl}) |`,
    `| wrk | ${machine.wrk} |`,
  ].join("\n");
}

function describeComparison(comparison: AnchorComparison): string {
  if (comparison.scenario === "edge-ka-wrk") return `whole chain, keep-alive, ${comparison.metric}`;
  return `full mTLS handshakes/s at the listener (${comparison.scenario.endsWith("tlsload") ? "tlsload" : "wrk"})`;
}

function targetText(comparison: AnchorComparison): string {
  if (comparison.target === undefined) return "–";
  return `${comparison.target.better === "higher" ? "≥" : "≤"} ${comparison.target.at}×`;
}

/** Formats the anchor block: ratios against nginx with their targets, then every median the run produced. */
export function anchorMarkdown(result: AnchorResult): string {
  const comparisons = compareWithNginx(result.cells);
  // The folders and ports differ between machines and runs, so the page shows the command without them.
  const command = result.command
    .replaceAll(result.anchorDir, "<anchor>")
    .replaceAll(PROJECT_ROOT, "<project>")
    .replace(/--ports \S+/, "--ports <free ports>")
    .replace(/--results \S+/, "--results bench/results/<time>")
    .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>")
    .replace(/(EDGE|ORIGIN)_PORT=\d+/g, "$1_PORT=<port>");
  const lines = [
    `run.sh command: \`${command}\``,
    "",
    "Ratios edgelock / nginx (medians of the same run, interleaved). Latencies are wrk's, which start after the handshake.",
    "",
    "| key type | mode | measurement | nginx | edgelock | ratio | target | result |",
    "|---|---|---|---:|---:|---:|---:|---|",
  ];
  for (const comparison of comparisons) {
    const digits = comparison.metric === "req/s" ? 0 : 2;
    const unit = comparison.metric === "req/s" ? "" : " ms";
    lines.push(
      `| ${comparison.keytype} | ${comparison.mode} | ${describeComparison(comparison)} | ${number(comparison.nginx, digits)}${unit} | ${number(comparison.edgelock, digits)}${unit} | ` +
        `${number(comparison.ratio, 2)}× | ${targetText(comparison)} | ${verdict(meetsTarget(comparison))} |`,
    );
  }
  lines.push(
    "",
    "All medians (proxy CPU = CPU time of edge + listener processes per request; gen = load generator; other = processes outside the run):",
    "",
    "| key type | mode | scenario | target | conns | req/s | min–max | p50 ms | p99 ms | proxy CPU µs/req | gen CPU % | other CPU % | runs | errors |",
    "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const cell of result.cells) {
    lines.push(
      `| ${cell.keytype} | ${cell.mode} | ${cell.scenario} | ${cell.target} | ${cell.connections} | ${number(cell.rps)} | ${number(cell.rps_min)}–${number(cell.rps_max)} | ` +
        `${number(cell.p50_ms, 2)} | ${number(cell.p99_ms, 2)} | ${number(cell.proxy_cpu_us_per_req)} | ${number(cell.gen_cpu_pct)} | ${number(cell.other_cpu_pct_max)} | ` +
        `${cell.runs - cell.failed_runs}/${cell.runs} | ${cell.errors} |`,
    );
  }
  return lines.join("\n");
}

export interface MicroResults {
  tokens?: TokenBenchResult;
  policy?: PolicyBenchRow[];
  bundle?: FunctionBenchResult;
}

/**
 * Returns whether policy evaluation time stays within (1 + tolerance) times the smallest list's, plus 50 ns of timer
 * noise, for every column. A scan of the list would take about 1000 times longer for 10,000 emails than for 10.
 */
export function policyIsConstant(rows: readonly PolicyBenchRow[], tolerance = 1): boolean {
  const [first, ...rest] = rows;
  if (first === undefined) return false;
  return rest.every((row) =>
    (["allowedNs", "deniedNs", "requestNs"] as const).every((column) => row[column] <= first[column] * (1 + tolerance) + 50),
  );
}

/** Formats the micro-benchmark block, each figure beside its target. */
export function microMarkdown(results: MicroResults): string {
  const lines: string[] = ["| measurement | measured | target | result |", "|---|---:|---:|---|"];
  const { tokens, policy, bundle } = results;
  if (tokens !== undefined) {
    lines.push(`| Access token verifications/s, cached JWKS, one core (each token new to the verifier) | ${number(tokens.perSecond)} | ≥ 20,000 | ${verdict(tokens.perSecond >= 20_000)} |`);
    lines.push(`| the same token presented again (the verifier's cache of accepted tokens) | ${number(tokens.repeatedPerSecond)} | – | – |`);
  }
  if (policy !== undefined) {
    const constant = policyIsConstant(policy);
    for (const row of policy) {
      lines.push(`| policy evaluation, ${number(row.emails)} allowed emails (allowed / denied / before login) | ${number(row.allowedNs)} / ${number(row.deniedNs)} / ${number(row.requestNs)} ns | constant | ${verdict(constant)} |`);
    }
  }
  if (bundle !== undefined) {
    lines.push(`| function bundle, minified | ${number(bundle.bundleBytes / 1024, 1)} KB | ≤ 150 KB | ${verdict(bundle.bundleBytes <= 150 * 1024)} |`);
    lines.push(`| function module init, fresh process (median of ${bundle.initSamplesMs.length}) | ${number(bundle.initMs, 2)} ms | ≤ 60 ms | ${verdict(bundle.initMs <= 60)} |`);
    lines.push(`| function warm invocation p50, with token check | ${number(bundle.warmP50Ms, 3)} ms | ≤ 1 ms | ${verdict(bundle.warmP50Ms <= 1)} |`);
  }
  lines.push("");
  if (tokens !== undefined) {
    lines.push(
      `Token verification: ${number(tokens.verifications)} RS256 verifications of ${number(tokens.distinctTokens)} distinct tokens, each pass by a fresh verifier, ` +
        `with ${tokens.concurrency} in flight, pinned to one core (taskset -c 0, UV_THREADPOOL_SIZE=1); ${number(tokens.cpuMicrosPerVerification, 1)} µs of CPU each; ` +
        `${tokens.jwksFetchesPerVerifier} JWKS fetch per verifier.`,
    );
  }
  if (bundle !== undefined) {
    lines.push(
      `Function: first invocation of a fresh process ${number(bundle.firstInvocationMs, 1)} ms (builds the verifier and fetches the JWKS over HTTPS on loopback); ` +
        `warm p99 ${number(bundle.warmP99Ms, 3)} ms over ${number(bundle.invocations)} invocations; warm p50 without the token check (REQUIRE_ACCESS_TOKEN=false) ${number(bundle.warmNoTokenP50Ms, 3)} ms. ` +
        `Init times: ${bundle.initSamplesMs.map((value) => number(value, 2)).join(", ")} ms.`,
    );
  }
  return lines.join("\n");
}
