/** `edgelock up` (= `npm start`): creates what is missing on first run and starts the whole path locally. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { DEFAULT_CONFIG_FILE, ensureConfigFile, loadConfig, resolveConfigPath, type LoadedConfig } from "../../config/index.ts";
import { bannerLines } from "../../stack/banner.ts";
import { startStack, type RunningStack } from "../../stack/stack.ts";
import { EdgelockError } from "../../shared/errors.ts";
import { createStackLogger } from "../terminal-log.ts";
import { parseFlags, UsageError, type Command } from "../command.ts";

const DEV_TARGET = "dev";

/** Puts an HTTP upstream behind the gates: every forward action goes to it instead. */
export function withUpstreamTarget(loaded: LoadedConfig, url: string, healthPath = "/"): LoadedConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--target must be an http:// or https:// URL such as http://127.0.0.1:3000 (got "${url}")`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--target must be an http:// or https:// URL (got "${url}")`);
  }
  if (!healthPath.startsWith("/")) throw new UsageError(`--health-path must start with "/" (got "${healthPath}")`);
  const { config } = loaded;
  const retarget = <T extends object>(action: T): T => ("forward" in action ? { ...action, forward: DEV_TARGET } : action);
  return {
    ...loaded,
    config: {
      ...config,
      targets: {
        ...config.targets,
        [DEV_TARGET]: {
          type: "http",
          url,
          healthCheck: { enabled: true, path: healthPath, intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200-499" },
        },
      },
      alb: { ...config.alb, rules: config.alb.rules.map((rule) => ({ ...rule, action: retarget(rule.action) })), defaultAction: retarget(config.alb.defaultAction) },
    },
  };
}

function explainStartFailure(error: unknown, loaded: LoadedConfig): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") {
    const port = /:(\d+)$/.exec((error as Error).message)?.[1] ?? "";
    const setting = port === String(loaded.config.local.alb.port) ? "local.alb.port" : "local.edge.port";
    throw new EdgelockError(
      "ERR_STACK_PORT_IN_USE",
      `port ${port} is already in use (another "edgelock up"?). Stop the other process, or set ${setting} in ${relative(process.cwd(), loaded.file) || loaded.file} to a free port.`,
    );
  }
  throw error;
}

export const upCommand: Command = {
  summary: "start the edge, the mTLS listener and the function on this machine (npm start)",
  help: [
    "Usage: edgelock up [--config FILE] [--target URL [--health-path PATH]] [--log-level LEVEL]",
    "",
    "Starts the local stack: the Access edge on https://app.localhost:8443, the ALB-style mTLS listener on",
    "https://alb.localhost:9443 and the function behind it. On first run it creates the configuration file,",
    "the mTLS root CA with the origin-pull client certificate, and a local CA for the server certificates.",
    "",
    `  --config FILE   configuration file (default ${DEFAULT_CONFIG_FILE}; created when missing)`,
    "  --target URL    put your own HTTP server behind the gates, such as http://127.0.0.1:3000",
    "  --health-path P path the listener's health checks request on that server (default /; any 200-499 passes)",
    "  --log-level L   terminal and file log level: debug, info, warn (default info)",
    "",
    "State (keys, certificates, logs) lives in local.stateDir, relative to the configuration file's folder.",
    "",
    "Ctrl-C stops: new connections are refused, running requests finish, exit code 0 (npm itself reports 130).",
    "SIGHUP (or `edgelock reload`) reloads the trust store from the CA bundle and CRL files.",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { config: { type: "string" }, target: { type: "string" }, "health-path": { type: "string" }, "log-level": { type: "string" } }, "up");
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; edgelock up takes only options. See "edgelock up --help".`);

    const file = values.config ?? DEFAULT_CONFIG_FILE;
    if (ensureConfigFile(file)) io.err(`Created ${file} with the default settings (edit it to change hosts and policies).`);
    let loaded = loadConfig(file);
    if (values["health-path"] !== undefined && values.target === undefined) throw new UsageError("--health-path goes with --target");
    if (values.target !== undefined) loaded = withUpstreamTarget(loaded, values.target, values["health-path"]);

    const logDir = join(resolveConfigPath(loaded, loaded.config.local.stateDir), "logs");
    const { logger, close: closeLog } = createStackLogger(logDir, io.err, values["log-level"] ?? "info");

    let stack: RunningStack;
    try {
      stack = await startStack(loaded, {
        logger,
        progress: (line) => io.err(line),
        onPinSent: (email, _pin, emlPath) => io.err(`PIN sent to ${email}: open ${relative(process.cwd(), emlPath)}`),
      });
    } catch (error) {
      await closeLog();
      explainStartFailure(error, loaded);
    }

    for (const line of bannerLines(stack, stack.prepared.created)) io.out(line);
    const pidFile = join(stack.prepared.layout.stateDir, "stack.pid");
    mkdirSync(stack.prepared.layout.stateDir, { recursive: true });
    writeFileSync(pidFile, `${process.pid}\n`);

    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        io.err(`${signal} received: refusing new connections, letting running requests finish...`);
        process.off("SIGINT", onInt).off("SIGTERM", onTerm).off("SIGHUP", onHup);
        done();
      };
      const onInt = () => stop("SIGINT");
      const onTerm = () => stop("SIGTERM");
      const onHup = () => {
        try {
          stack.reloadTrustStore();
        } catch (error) {
          logger.error({ stage: "listener", error: (error as Error).message }, "trust store reload failed; the previous one stays in force");
        }
      };
      process.on("SIGINT", onInt).on("SIGTERM", onTerm).on("SIGHUP", onHup);
    });

    await stack.close();
    rmSync(pidFile, { force: true });
    logger.info("stopped");
    await closeLog();
    return 0;
  },
};
