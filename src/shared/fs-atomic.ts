/**
 * Atomic file writes: the content goes to a temporary file in the same folder, is flushed, then renamed over
 * the target, so an interrupted run leaves either the old file or the new one, never half of one.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, rmSync, chmodSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export interface WriteOptions {
  /** File mode. Default 0o644; private keys use 0o600. */
  mode?: number;
}

/** Writes `content` to `path` atomically, creating the parent folders. */
export function writeFileAtomic(path: string, content: string | Uint8Array, options: WriteOptions = {}): void {
  const mode = options.mode ?? 0o644;
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });

  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const descriptor = openSync(temporary, "wx", mode);
  try {
    writeSync(descriptor, typeof content === "string" ? Buffer.from(content, "utf8") : content);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);

  // The umask may have narrowed the mode at creation; set it exactly before the file becomes visible.
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

/** Writes a private key: mode 0600, atomically. */
export function writePrivateFile(path: string, content: string | Uint8Array): void {
  writeFileAtomic(path, content, { mode: 0o600 });
}
