/** Describes the machine a benchmark ran on: CPU, cores, kernel and the versions of Node, OpenSSL, nginx and wrk. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, release } from "node:os";

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  kernel: string;
  node: string;
  /** OpenSSL bundled with Node. */
  openssl: string;
  /** The system's OpenSSL, which nginx and curl use. */
  systemOpenssl: string;
  nginx: string;
  wrk: string;
  /** Short commit hash of the project, with "+ local changes" when src/ or bench/ differ from it. */
  commit: string;
}

/** Returns the first line a command prints on standard output or standard error (nginx -v and wrk --version use the latter). */
function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return "not installed";
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  return text.split("\n")[0]?.trim() || "unknown";
}

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((entry) => entry.startsWith("model name"));
    return line?.split(":")[1]?.trim() ?? "unknown";
  } catch {
    return "unknown (no /proc/cpuinfo)";
  }
}

function projectCommit(): string {
  const hash = firstLine("git", ["rev-parse", "--short", "HEAD"]);
  const changed = spawnSync("git", ["status", "--porcelain", "--", "src", "bench"], { encoding: "utf8" }).stdout?.trim() ?? "";
  return changed === "" ? hash : `${hash} + local changes`;
}

/** Collects the machine details; `nodePath` is the Node binary the benchmarks ran with. */
export function describeMachine(nodePath: string): MachineInfo {
  const versions = firstLine(nodePath, ["-p", "process.version + ' ' + process.versions.openssl"]).split(" ");
  const nginx = firstLine("nginx", ["-v"]).replace(/^nginx version:\s*/, "");
  const wrk = firstLine("wrk", ["--version"]).split(" ")[1] ?? "unknown";
  return {
    date: new Date().toISOString(),
    cpuModel: cpuModel(),
    cores: availableParallelism(),
    kernel: release(),
    node: versions[0] ?? "unknown",
    openssl: versions[1] ?? "unknown",
    systemOpenssl: firstLine("openssl", ["version"]).split(" ")[1] ?? "unknown",
    nginx,
    wrk,
    commit: projectCommit(),
  };
}
