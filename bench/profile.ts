/**
 * Summarizes a V8 CPU profile (.cpuprofile from `node --cpu-prof`): the functions and files with the most self time
 * and the functions with the most inclusive time, each as a share of the busy (non-idle) samples.
 *
 *   node --import tsx bench/profile.ts PROFILE [--top N] [--since SECONDS]
 *
 * --since skips the first SECONDS of the profile, such as start-up before the load began.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Busy time covered, in milliseconds (idle samples left out). */
  busyMs: number;
  selfByFunction: [string, number][];
  selfByFile: [string, number][];
  inclusiveByFunction: [string, number][];
}

function shortUrl(url: string): string {
  return url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(src|bench)\//, "$1/");
}

function label(frame: CallFrame): string {
  return `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
}

function top(map: Map<string, number>, total: number, count: number): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([key, value]) => [key, value / total]);
}

/** Summarizes a profile; shares are fractions of the busy time after `sinceMs`. */
export function summarizeProfile(profile: CpuProfile, options: { top: number; sinceMs: number }): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const selfTime = new Map<number, number>();
  let elapsed = 0;
  let busy = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsed += delta;
    if (elapsed < options.sinceMs * 1000) return;
    const name = nodes.get(id)?.callFrame.functionName;
    if (name === "(idle)") return;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
    busy += delta;
  });

  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const frame = (nodes.get(id) as ProfileNode).callFrame;
    byFunction.set(label(frame), (byFunction.get(label(frame)) ?? 0) + time);
    const file = shortUrl(frame.url) || frame.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + time);
    const seen = new Set<string>();
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const key = label((nodes.get(current) as ProfileNode).callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + time);
    }
  }
  inclusive.delete("(root) ");
  return {
    busyMs: busy / 1000,
    selfByFunction: top(byFunction, busy, options.top),
    selfByFile: top(byFile, busy, options.top),
    inclusiveByFunction: top(inclusive, busy, options.top * 2),
  };
}

function printSection(title: string, rows: [string, number][]): void {
  process.stdout.write(`${title}\n`);
  for (const [name, share] of rows) process.stdout.write(`${(share * 100).toFixed(1).padStart(6)}%  ${name}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { top: { type: "string" }, since: { type: "string" } }, allowPositionals: true });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write("usage: node --import tsx bench/profile.ts PROFILE [--top N] [--since SECONDS]\n");
    process.exit(2);
  }
  const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, { top: Number(values.top ?? 25), sinceMs: Number(values.since ?? 0) * 1000 });
  process.stdout.write(`busy time: ${(summary.busyMs / 1000).toFixed(2)} s\n`);
  printSection("self time by function:", summary.selfByFunction);
  printSection("self time by file:", summary.selfByFile);
  printSection("inclusive time by function:", summary.inclusiveByFunction);
}
