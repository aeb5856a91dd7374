/**
 * Logging for `edgelock up`: every JSON line goes to `<logDir>/edgelock.log`, and a short human-readable line
 * per event goes to the terminal (level, stage, message and the fields that explain it).
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { REDACTED_PATHS } from "../shared/logger.ts";

const LEVEL_NAMES: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };
const SHOWN_FIELDS = ["reason", "status", "code", "target", "state", "method", "path", "host", "email", "serial", "error", "port"];

/** Formats one JSON log line for the terminal. */
export function formatTerminalLine(line: string): string | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const level = LEVEL_NAMES[record.level as number] ?? "info";
  const time = typeof record.time === "string" ? record.time.slice(11, 19) : "";
  const stage = typeof record.stage === "string" ? `[${record.stage}]` : "";
  const details = SHOWN_FIELDS.filter((field) => record[field] !== undefined && typeof record[field] !== "object")
    .map((field) => `${field}=${String(record[field])}`)
    .join(" ");
  return `${time} ${level.padEnd(5)} ${stage.padEnd(11)} ${String(record.msg ?? "")}${details ? `  ${details}` : ""}`;
}

/** Creates the logger of a running stack. `terminal` receives formatted lines. */
export function createStackLogger(logDir: string, terminal: (line: string) => void, level = "info"): { logger: Logger; close: () => Promise<void> } {
  mkdirSync(logDir, { recursive: true });
  const file = createWriteStream(join(logDir, "edgelock.log"), { flags: "a" });
  const screen = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        const formatted = line.trim() === "" ? undefined : formatTerminalLine(line);
        if (formatted !== undefined) terminal(formatted);
      }
      done();
    },
  });
  const logger = pino(
    { level: process.env.EDGELOCK_LOG_LEVEL ?? level, base: undefined, redact: { paths: REDACTED_PATHS }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream([{ stream: file, level: "trace" }, { stream: screen, level: "trace" }]),
  );
  return {
    logger,
    close: () => new Promise((done) => file.end(done)),
  };
}
