/**
 * The `edgelock` command: dispatches to one subcommand per stage of the request path, each loaded on demand so
 * `edgelock pki` does not pay for the edge or Pulumi.
 */
import "reflect-metadata";
import { EdgelockError, messageOf } from "../shared/errors.ts";
import { defaultIo, type Command, type CommandIo } from "./command.ts";

const commands: Record<string, () => Promise<Command>> = {
  up: async () => (await import("./commands/up.ts")).upCommand,
  reload: async () => (await import("./commands/reload.ts")).reloadCommand,
  pki: async () => (await import("./commands/pki.ts")).pkiCommand,
  "service-token": async () => (await import("./commands/service-token.ts")).serviceTokenCommand,
  check: async () => (await import("./commands/check.ts")).checkCommand,
  deploy: async () => (await import("./commands/deploy.ts")).deployCommand,
  bench: async () => (await import("./commands/bench.ts")).benchCommand,
  config: async () => (await import("./commands/config.ts")).configCommand,
};

async function usage(): Promise<string> {
  const lines = ["Usage: edgelock <command> [options]", "", "Commands:"];
  for (const [name, load] of Object.entries(commands)) {
    try {
      lines.push(`  ${name.padEnd(14)} ${(await load()).summary}`);
    } catch {
      // A command whose module is not written yet is left out of the list.
    }
  }
  lines.push("", 'Run "edgelock <command> --help" for the options of a command.');
  return lines.join("\n");
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: string[], io: CommandIo = defaultIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(await usage());
    return name === undefined ? 2 : 0;
  }

  const load = commands[name];
  if (load === undefined) {
    io.err(`edgelock: unknown command "${name}". Commands: ${Object.keys(commands).join(", ")}.`);
    return 2;
  }

  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(command.helpFor?.(rest) ?? command.help);
    return 0;
  }

  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof EdgelockError && error.kind === "user") {
      io.err(`edgelock ${name}: ${error.message}`);
      return error.code === "ERR_USAGE" ? 2 : 1;
    }
    io.err(`edgelock ${name}: internal error: ${messageOf(error)}`);
    if (process.env.EDGELOCK_DEBUG && error instanceof Error && error.stack) io.err(error.stack);
    return 1;
  }
}
