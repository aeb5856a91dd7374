export { loadConfig, parseConfig, ensureConfigFile, defaultConfigInput, resolveConfigPath, resolvePkiDir, describeIssues, formatPath, ConfigError, DEFAULT_CONFIG_FILE } from "./load.ts";
export type { LoadedConfig, ConfigErrorCode } from "./load.ts";
export * from "./schema/index.ts";
