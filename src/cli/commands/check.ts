/**
 * `edgelock check`: runs the reference deployment's checks against an app host and an origin, local or deployed.
 * Defaults come from the configuration: the local stack's hosts, the PKI's origin-pull certificate, and the local
 * CA for loopback hosts. Without a configuration file the schema's defaults apply, as `edgelock up` would write them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CheckError, DEFAULT_TIMEOUT_SECONDS, formatReport, formatReportJson, runChecks, type CheckOptions, type ServiceToken } from "../../check/index.ts";
import { DEFAULT_CONFIG_FILE, defaultConfigInput, loadConfig, parseConfig, resolveConfigPath, resolvePkiDir, type LoadedConfig } from "../../config/index.ts";
import { openPkiStore } from "../../pki/index.ts";
import { stackLayout } from "../../stack/layout.ts";
import { parseFlags, UsageError, type Command } from "../command.ts";

const help = [
  "Usage: edgelock check [--app URL] [--origin URL] [--cert FILE --key FILE] [--ca FILE]",
  "                      [--service-token-id ID --service-token-secret SECRET] [--timeout SECONDS] [--json] [--config FILE]",
  "",
  "Checks both gates from outside, one line per check:",
  "  1 the origin rejects a client without a certificate (no HTTP response)",
  "  2 the origin accepts the edge's certificate, and the echo's mTLS headers name it",
  "  3 the origin rejects a certificate from another CA (made in memory, never written)",
  "  4 the app host redirects to Access's login, and the team domain serves its signing keys",
  "  5 a service token reaches the origin with a valid app token (skipped without a service token)",
  "  6 days until the client certificate, the CA and the CRL's next update run out",
  "It connects only to the app host, the origin host, and the team domain named by the app's login redirect.",
  "",
  "  --app URL                 app host through Access (default https://<local.edge.host>:<local.edge.port>)",
  "  --origin URL              origin, the ALB listener (default https://<local.alb.host>:<local.alb.port>)",
  "  --cert FILE, --key FILE   client certificate and key for checks 2 and 6 (default: the PKI's origin-pull certificate,",
  "                            <pki.dir>/issued/<pki.originPullCertificate>/)",
  "  --ca FILE                 CA to trust for the hosts' server certificates, besides the system roots",
  "                            (default for localhost and *.localhost: <local.stateDir>/local-ca/ca/cert.pem)",
  "  --service-token-id ID     service token Client ID for check 5 (or EDGELOCK_SERVICE_TOKEN_ID)",
  "  --service-token-secret S  service token Client Secret for check 5 (or EDGELOCK_SERVICE_TOKEN_SECRET)",
  `  --timeout SECONDS         time limit of each check (default ${DEFAULT_TIMEOUT_SECONDS})`,
  "  --json                    prints the report as JSON",
  `  --config FILE             configuration file (default ${DEFAULT_CONFIG_FILE}; its defaults apply when it is missing)`,
  "",
  "Exit code 0 when no check fails (warnings and skipped checks pass), 1 when one fails, 2 for invalid options.",
].join("\n");

const flags = {
  app: { type: "string" },
  origin: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  ca: { type: "string" },
  "service-token-id": { type: "string" },
  "service-token-secret": { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  config: { type: "string" },
} as const;

/** Loads the named configuration file, or the default one when it exists, or the schema's defaults. */
function loadSettings(file: string | undefined): LoadedConfig {
  if (file !== undefined || existsSync(DEFAULT_CONFIG_FILE)) return loadConfig(file ?? DEFAULT_CONFIG_FILE);
  return { config: parseConfig(defaultConfigInput()), file: resolve(DEFAULT_CONFIG_FILE), baseDir: process.cwd() };
}

function baseUrl(host: string, port: number): string {
  return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

function parseUrl(value: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag} must be an https:// URL such as https://app.example.com (got "${value}")`);
  }
  if (url.protocol !== "https:") throw new UsageError(`${flag} must be an https:// URL; both gates only speak TLS (got "${value}")`);
  return url;
}

function readFile(file: string, description: string, fix: string): string {
  if (!existsSync(file)) throw new CheckError("ERR_CHECK_OPTIONS", `${description} ${file} does not exist; ${fix}`);
  return readFileSync(file, "utf8");
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    throw new UsageError(`--timeout must be a number of seconds above 0 and at most 600, such as 10 (got "${value}")`);
  }
  return seconds;
}

function readServiceToken(id: string | undefined, secret: string | undefined): ServiceToken | undefined {
  const clientId = id ?? process.env.EDGELOCK_SERVICE_TOKEN_ID;
  const clientSecret = secret ?? process.env.EDGELOCK_SERVICE_TOKEN_SECRET;
  if (clientId === undefined && clientSecret === undefined) return undefined;
  if (clientId === undefined || clientSecret === undefined || clientId === "" || clientSecret === "") {
    throw new UsageError("a service token needs both the Client ID and the Client Secret: pass --service-token-id with --service-token-secret, or set both EDGELOCK_SERVICE_TOKEN_ID and EDGELOCK_SERVICE_TOKEN_SECRET");
  }
  return { clientId, clientSecret };
}

/** Turns the command line and the configuration into the options of `runChecks`. */
export function resolveCheckOptions(values: ReturnType<typeof parseFlags<typeof flags>>["values"]): CheckOptions {
  // The flags are checked before the configuration is read, so a usage error is reported as one.
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError("--cert and --key go together; pass both, or neither to use the origin-pull certificate");
  const appFlag = values.app === undefined ? undefined : parseUrl(values.app, "--app");
  const originFlag = values.origin === undefined ? undefined : parseUrl(values.origin, "--origin");
  const timeoutSeconds = parseTimeout(values.timeout);
  const serviceToken = readServiceToken(values["service-token-id"], values["service-token-secret"]);

  const loaded = loadSettings(values.config);
  const { config } = loaded;
  const pki = openPkiStore(resolvePkiDir(loaded));
  const layout = stackLayout(resolveConfigPath(loaded, config.local.stateDir));
  const name = config.pki.originPullCertificate;
  const certFile = values.cert ?? pki.paths.certificate(name);
  const keyFile = values.key ?? pki.paths.key(name);
  const fix = values.cert === undefined ? 'start the stack once with "npm start", or pass --cert and --key' : "check the path";
  const clientCertificate = { certPem: readFile(certFile, "the client certificate", fix), keyPem: readFile(keyFile, "the client key", fix) };

  const localCaFile = join(layout.localCaDir, "ca", "cert.pem");
  const options: CheckOptions = {
    app: appFlag ?? new URL(baseUrl(config.local.edge.host, config.local.edge.port)),
    origin: originFlag ?? new URL(baseUrl(config.local.alb.host, config.local.alb.port)),
    clientCertificate,
    timeoutSeconds,
    headerNames: { serialNumber: config.alb.headerNames.serialNumber, leaf: config.alb.headerNames.leaf, clientCert: config.alb.headerNames.clientCert },
    healthFiles: { caCertificateFile: pki.paths.caCert, crlFile: pki.paths.crl },
  };
  if (values.ca !== undefined) options.caPem = readFile(values.ca, "the CA file", "check the path given to --ca");
  else if (existsSync(localCaFile)) options.localCaPem = readFileSync(localCaFile, "utf8");
  if (serviceToken !== undefined) options.serviceToken = serviceToken;
  return options;
}

export const checkCommand: Command = {
  summary: "check both gates of a local or deployed stack from outside (mTLS origin, Access, certificates)",
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, flags, "check");
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"; see "edgelock check --help"`);

    const report = await runChecks(resolveCheckOptions(values));
    if (values.json === true) io.out(formatReportJson(report));
    else for (const line of formatReport(report)) io.out(line);
    return report.ok ? 0 : 1;
  },
};
