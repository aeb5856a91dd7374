/** Append-only log files of the listener: one line per write, flushed before `close()` resolves. */
import { createWriteStream, openSync, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";

export interface LogFile {
  append(line: string): void;
  close(): Promise<void>;
}

/** Opens `path` for appending, creating its folder; without a path, lines are dropped. */
export function openLogFile(path: string | undefined): LogFile {
  if (path === undefined) return { append: () => {}, close: async () => {} };

  mkdirSync(dirname(path), { recursive: true });
  // Opening synchronously makes a bad path fail at start-up, not later as an unhandled stream error.
  const stream: WriteStream = createWriteStream(path, { fd: openSync(path, "a", 0o644) });
  return {
    append: (line) => {
      stream.write(`${line}\n`);
    },
    close: () => new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve()))),
  };
}
