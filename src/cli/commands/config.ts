/** `edgelock config`: validates the configuration file, or prints its JSON schema. */
import { z } from "zod";
import { configSchema, loadConfig, DEFAULT_CONFIG_FILE } from "../../config/index.ts";
import { parseFlags, UsageError, type Command } from "../command.ts";

export const configCommand: Command = {
  summary: "validate the configuration file or print its JSON schema",
  help: [
    "Usage: edgelock config validate [--config FILE]",
    "       edgelock config schema",
    "",
    "  validate   reads the configuration and lists every problem with its path",
    "  schema     prints the JSON schema of the configuration (every key with its default)",
    "",
    `  --config FILE   configuration file (default ${DEFAULT_CONFIG_FILE})`,
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { config: { type: "string" } }, "config");
    const action = positionals[0] ?? "validate";
    if (action === "schema") {
      io.out(JSON.stringify(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }), null, 2));
      return 0;
    }
    if (action !== "validate") throw new UsageError(`unknown action "${action}"; use "validate" or "schema"`);

    const loaded = loadConfig(values.config ?? DEFAULT_CONFIG_FILE);
    io.out(`${loaded.file} is valid.`);
    return 0;
  },
};
