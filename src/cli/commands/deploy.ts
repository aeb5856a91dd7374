/**
 * `edgelock deploy`: checks everything a deployment needs, lists every missing item with its fix, and only then
 * runs `pulumi up` (or `pulumi destroy`) in the project root, where Pulumi.yaml names src/infra/program.ts.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, DEFAULT_CONFIG_FILE, loadConfig, resolvePkiDir } from "../../config/index.ts";
import { inspectPkiFiles } from "../../infra/pki-files.ts";
import { parseFlags, UsageError, type Command, type CommandIo } from "../command.ts";

const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface DeployOptions {
  destroy: boolean;
  /** Pulumi stack name; default Pulumi's current stack. */
  stack?: string;
  /** Configuration file; default edgelock.config.json. */
  configFile: string;
  /** Skips Pulumi's confirmation prompt. */
  yes: boolean;
}

/** Returns the path of `name` on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const folder of path.split(delimiter)) {
    if (folder === "") continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder; try the next one.
    }
  }
  return undefined;
}

/** Reads a stack's settings file (Pulumi.<stack>.yaml) as text, or undefined when there is none. */
function stackFile(stack: string | undefined, root: string): string | undefined {
  if (stack === undefined) return undefined;
  const path = join(root, `Pulumi.${stack}.yaml`);
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/**
 * Lists every item missing before a deployment, each with its fix: the Pulumi CLI, AWS and Cloudflare
 * credentials, and for `up` a valid config file and current PKI files. Returns an empty list when all are in place.
 */
export function preflight(options: DeployOptions, env: NodeJS.ProcessEnv, root = PROJECT_ROOT, now = new Date()): string[] {
  const problems: string[] = [];

  if (findExecutable("pulumi", env.PATH) === undefined) {
    problems.push("Pulumi CLI not found on PATH; install it from https://www.pulumi.com/docs/install/ and open a new shell");
  }

  const hasKeys = Boolean(env.AWS_ACCESS_KEY_ID) && Boolean(env.AWS_SECRET_ACCESS_KEY);
  if (env.AWS_ACCESS_KEY_ID && !env.AWS_SECRET_ACCESS_KEY) {
    problems.push("AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY; export both, or use AWS_PROFILE");
  } else if (!hasKeys && !env.AWS_PROFILE && !env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    problems.push("no AWS credentials in the environment; export AWS_PROFILE (after \"aws sso login\"), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }

  const settings = stackFile(options.stack, root);
  if (!env.CLOUDFLARE_API_TOKEN && !/^\s*cloudflare:apiToken:\s*\n?\s*secure:/m.test(settings ?? "")) {
    problems.push(
      options.stack === undefined
        ? "no Cloudflare API token; export CLOUDFLARE_API_TOKEN, or store it with \"pulumi config set --secret cloudflare:apiToken\" and pass --stack NAME"
        : `no Cloudflare API token; export CLOUDFLARE_API_TOKEN, or run "pulumi config set --secret cloudflare:apiToken --stack ${options.stack}"`,
    );
  }

  // pulumi destroy works from the stack's state and does not run the program, so it needs neither.
  if (options.destroy) return problems;
  try {
    const loaded = loadConfig(resolve(options.configFile));
    const pkiDir = resolvePkiDir(loaded);
    problems.push(...inspectPkiFiles(pkiDir, loaded.config.pki.originPullCertificate, now).problems);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (error.problems.length > 0) problems.push(...error.problems.map((problem) => `config: ${problem}`));
    else problems.push(error.message);
  }

  return problems;
}

/** Builds the Pulumi command line. */
export function pulumiArguments(options: DeployOptions): string[] {
  const args = [options.destroy ? "destroy" : "up"];
  if (options.stack !== undefined) args.push("--stack", options.stack);
  if (!options.destroy) args.push("--config", `edgelock:configFile=${resolve(options.configFile)}`);
  if (options.yes) args.push("--yes");
  return args;
}

/** Runs the checks, then Pulumi; returns the exit code. */
export async function runDeploy(args: string[], io: CommandIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { destroy: { type: "boolean" }, stack: { type: "string" }, config: { type: "string" }, yes: { type: "boolean", short: "y" } },
    "deploy",
  );
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; see "edgelock deploy --help"`);
  const options: DeployOptions = {
    destroy: values.destroy ?? false,
    ...(values.stack === undefined ? {} : { stack: values.stack }),
    configFile: values.config ?? DEFAULT_CONFIG_FILE,
    yes: values.yes ?? false,
  };

  const problems = preflight(options, env);
  if (problems.length > 0) {
    io.err(`edgelock deploy: ${problems.length} item${problems.length === 1 ? " is" : "s are"} missing before ${options.destroy ? "pulumi destroy" : "pulumi up"} can run:`);
    for (const problem of problems) io.err(`  - ${problem}`);
    return 1;
  }

  const pulumiArgs = pulumiArguments(options);
  io.err(`edgelock deploy: running pulumi ${pulumiArgs.join(" ")} in ${PROJECT_ROOT}`);
  return new Promise<number>((resolveExit, reject) => {
    const child = spawn("pulumi", pulumiArgs, { cwd: PROJECT_ROOT, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolveExit(code ?? (signal === null ? 1 : 128)));
  });
}

export const deployCommand: Command = {
  summary: "deploy to AWS and Cloudflare with Pulumi, after checking prerequisites",
  help: [
    "Usage: edgelock deploy [--destroy] [--stack NAME] [--config FILE] [--yes]",
    "",
    "Checks the Pulumi CLI, AWS credentials, the Cloudflare API token, the configuration and the PKI files",
    "(certificates and CRL valid for at least 30 more days), lists every missing item, then runs",
    "\"pulumi up\" in the project root. See docs/deploy.md for the first deployment.",
    "",
    "  --destroy       runs \"pulumi destroy\" instead, removing every deployed resource",
    "  --stack NAME    Pulumi stack to use (default: Pulumi's selected stack)",
    `  --config FILE   configuration file (default ${DEFAULT_CONFIG_FILE}); passed to the program as edgelock:configFile`,
    "  --yes, -y       skips Pulumi's confirmation prompt",
  ].join("\n"),
  run: (args, io) => runDeploy(args, io),
};
