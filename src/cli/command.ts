/** The shape every `edgelock` subcommand has, and helpers to parse its flags with a clear error. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { EdgelockError } from "../shared/errors.ts";

export interface CommandIo {
  /** Normal output (results, tables, JSON). */
  out: (line: string) => void;
  /** Progress, warnings and errors. */
  err: (line: string) => void;
}

export interface Command {
  /** One line shown in `edgelock --help`. */
  summary: string;
  /** Full help text of the command. */
  help: string;
  /** Help for the subcommand named in `args` (the command line after the command, --help included), such as `pki issue`. Default: `help`. */
  helpFor?(args: string[]): string;
  /** Runs the command; returns the exit code. */
  run(args: string[], io: CommandIo): Promise<number>;
}

export class UsageError extends EdgelockError<"ERR_USAGE"> {
  constructor(message: string) {
    super("ERR_USAGE", message);
  }
}

/** Parses flags with node:util, turning its errors into UsageError with a pointer to --help. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: T,
  command: string,
): { values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>["values"]; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, "")}. See "edgelock ${command} --help".`);
  }
}

export const defaultIo: CommandIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
