/** `edgelock reload`: signals a running `edgelock up` to read the CA bundle and CRL files again. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG_FILE, loadConfig, resolveConfigPath } from "../../config/index.ts";
import { EdgelockError } from "../../shared/errors.ts";
import { parseFlags, type Command } from "../command.ts";

export const reloadCommand: Command = {
  summary: "reload the running stack's trust store (after pki crl or pki bundle)",
  help: [
    "Usage: edgelock reload [--config FILE]",
    "",
    "Like ModifyTrustStore on a real ALB: the running listener reads bundle.pem and crl.pem again. Until then it",
    "keeps the trust store it loaded, whatever happens to the files. Sends SIGHUP to the process in",
    "<stateDir>/stack.pid.",
    "",
    `  --config FILE   configuration file (default ${DEFAULT_CONFIG_FILE})`,
  ].join("\n"),
  async run(args, io) {
    const { values } = parseFlags(args, { config: { type: "string" } }, "reload");
    const loaded = loadConfig(values.config ?? DEFAULT_CONFIG_FILE);
    const pidFile = join(resolveConfigPath(loaded, loaded.config.local.stateDir), "stack.pid");
    if (!existsSync(pidFile)) {
      throw new EdgelockError("ERR_STACK_NOT_RUNNING", `no running stack: ${pidFile} does not exist. Start it with "npm start".`);
    }

    const pid = Number(readFileSync(pidFile, "utf8").trim());
    try {
      process.kill(pid, "SIGHUP");
    } catch (error) {
      throw new EdgelockError("ERR_STACK_NOT_RUNNING", `no running stack with process id ${pid} (${(error as NodeJS.ErrnoException).code}); remove ${pidFile} and start it with "npm start".`);
    }
    io.out(`Asked the stack (process ${pid}) to reload its trust store; its log says whether the new files were accepted.`);
    return 0;
  },
};
