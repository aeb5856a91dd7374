/**
 * Crash-safe changes to several files of the state folder. A change is first written whole to `pending.json`
 * (mode 0600, because it may contain private keys), then each file is replaced atomically, state.json last, and
 * finally the journal is removed. A run interrupted after the journal was written is completed by the next
 * store operation, so no change is ever half applied. A run interrupted before that leaves the folder as it was.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic, writePrivateFile } from "../shared/fs-atomic.ts";
import { PkiError } from "./errors.ts";

export const JOURNAL_FILE = "pending.json";

/** One file to write, with its path relative to the state folder. */
export interface PendingFile {
  path: string;
  content: string;
  /** True for private keys, written with mode 0600. */
  private: boolean;
}

const journalSchema = z.strictObject({
  files: z.array(z.strictObject({ path: z.string().regex(/^[a-z0-9][a-z0-9./-]*$/).refine((path) => !path.split("/").includes("..")), content: z.string(), private: z.boolean() })),
});

/** Writes `files` into `dir` as one change: all of them or, after a crash, all of them on the next run. */
export function commitFiles(dir: string, files: PendingFile[]): void {
  writePrivateFile(join(dir, JOURNAL_FILE), JSON.stringify({ files }));
  applyFiles(dir, files);
  rmSync(join(dir, JOURNAL_FILE));
}

/** Completes a change that an interrupted run left in the journal; does nothing when there is none. */
export function recoverJournal(dir: string): void {
  const path = join(dir, JOURNAL_FILE);
  if (!existsSync(path)) return;

  let journal: z.infer<typeof journalSchema>;
  try {
    journal = journalSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new PkiError(
      "ERR_PKI_STATE_CORRUPT",
      `unfinished change ${path} cannot be read (${(error as Error).message}); the change it recorded was not applied, so delete the file and run the last command again`,
      { cause: error },
    );
  }
  applyFiles(dir, journal.files);
  rmSync(path);
}

function applyFiles(dir: string, files: PendingFile[]): void {
  for (const file of files) {
    const target = join(dir, file.path);
    if (file.private) writePrivateFile(target, file.content);
    else writeFileAtomic(target, file.content);
  }
}
