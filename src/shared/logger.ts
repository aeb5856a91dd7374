/**
 * The project's logger: services (edge, listener, CLI) log through one pino instance; libraries never log.
 * Tests use `createRecordingLogger` to assert on what was logged.
 */
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";

export type { Logger } from "pino";

/** Paths that pino replaces with "[Redacted]" wherever they appear, so a secret never reaches a log line. */
export const REDACTED_PATHS = [
  "pin",
  "*.pin",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "clientSecret",
  "*.clientSecret",
  "privateKey",
  "*.privateKey",
  "headers.cookie",
  "headers['cf-access-jwt-assertion']",
  "headers['cf-access-client-secret']",
  "headers.authorization",
];

export interface LoggerOptions {
  /** Minimum level written. Default "info"; the EDGELOCK_LOG_LEVEL environment variable overrides it. */
  level?: string;
  /** Destination of the JSON lines. Default standard error, so command output on standard output stays clean. */
  destination?: NodeJS.WritableStream;
}

/** Creates the logger that services write JSON lines to. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = process.env.EDGELOCK_LOG_LEVEL ?? options.level ?? "info";
  return pino(
    { level, base: undefined, redact: { paths: REDACTED_PATHS }, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination ?? process.stderr,
  );
}

/** One parsed log line, as recorded in tests. */
export interface LogRecord {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** Creates a logger that keeps every line in memory, for tests. */
export function createRecordingLogger(level = "debug"): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() !== "") records.push(JSON.parse(line) as LogRecord);
      }
      done();
    },
  });
  const logger = pino({ level, base: undefined, redact: { paths: REDACTED_PATHS } }, sink);
  return { logger, records };
}

/** Creates a logger that drops everything. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
