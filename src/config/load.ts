/**
 * Reads the configuration file once: JSON, validated against the schema with unknown keys rejected. Every
 * problem is reported at once, each with the path to the bad field.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { z } from "zod";
import { EdgelockError } from "../shared/errors.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";
import { configSchema, type EdgelockConfig, type EdgelockConfigInput } from "./schema/index.ts";

export const DEFAULT_CONFIG_FILE = "edgelock.config.json";

export type ConfigErrorCode = "ERR_CONFIG_NOT_FOUND" | "ERR_CONFIG_SYNTAX" | "ERR_CONFIG_INVALID";

export class ConfigError extends EdgelockError<ConfigErrorCode> {
  /** One line per problem, `path: message`. */
  readonly problems: string[];

  constructor(code: ConfigErrorCode, message: string, problems: string[] = [], cause?: unknown) {
    super(code, message, { cause });
    this.problems = problems;
  }
}

/** A validated configuration and where it came from. */
export interface LoadedConfig {
  config: EdgelockConfig;
  /** Absolute path of the file. */
  file: string;
  /** Folder relative paths in the file are resolved against. */
  baseDir: string;
}

/** Formats a zod path as the user would write it: `access.applications[0].policies[1].include[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** Lists a zod error's issues as `"path" message` lines. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return `${path === "" ? "(top level)" : `"${path}"`}: ${issue.message}`;
  });
}

/** Validates a parsed configuration object; throws ConfigError listing every problem. */
export function parseConfig(input: unknown, source = "configuration"): EdgelockConfig {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;

  const problems = describeIssues(result.error);
  throw new ConfigError(
    "ERR_CONFIG_INVALID",
    `${source} is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`,
    problems,
  );
}

/** Reads and validates the configuration file. */
export function loadConfig(file = DEFAULT_CONFIG_FILE): LoadedConfig {
  const absolute = isAbsolute(file) ? file : resolve(file);
  if (!existsSync(absolute)) {
    throw new ConfigError(
      "ERR_CONFIG_NOT_FOUND",
      `configuration file not found: ${absolute}. Run "edgelock up" once to create a default one, or pass --config FILE.`,
    );
  }

  let input: unknown;
  try {
    input = JSON.parse(readFileSync(absolute, "utf8"));
  } catch (error) {
    throw new ConfigError("ERR_CONFIG_SYNTAX", `${absolute} is not valid JSON: ${(error as Error).message}`, [], error);
  }

  return { config: parseConfig(input, absolute), file: absolute, baseDir: dirname(absolute) };
}

/** Returns the configuration written on the first `edgelock up`: one application that allows example.com addresses. */
export function defaultConfigInput(): EdgelockConfigInput {
  return {
    $schema: "./docs/config.schema.json",
    name: "edgelock",
    hosts: { app: "app.example.com", origin: "origin.example.com" },
    access: {
      teamName: "edgelock",
      applications: [
        {
          name: "app",
          sessionDuration: "24h",
          policies: [{ name: "allow-example-com", decision: "allow", include: [{ emailDomain: "example.com" }] }],
        },
      ],
      serviceTokens: [],
    },
  };
}

/** Writes the default configuration to `file` unless it exists; returns true when it wrote one. */
export function ensureConfigFile(file = DEFAULT_CONFIG_FILE): boolean {
  const absolute = resolve(file);
  if (existsSync(absolute)) return false;
  writeFileAtomic(absolute, `${JSON.stringify(defaultConfigInput(), null, 2)}\n`);
  return true;
}

/** Resolves a path from the configuration against the config file's folder. */
export function resolveConfigPath(loaded: LoadedConfig, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
}

/** Returns the absolute PKI folder: pki.dir, or the "pki" folder in the local state folder. */
export function resolvePkiDir(loaded: LoadedConfig): string {
  return resolveConfigPath(loaded, loaded.config.pki.dir ?? join(loaded.config.local.stateDir, "pki"));
}
