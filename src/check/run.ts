/**
 * Runs the six checks and returns one report. Check 4 runs first because it learns the team domain, the AUD and
 * the JWKS. Check 5 then obtains the app token that check 2 sends to the origin. The report lists the checks by
 * number whatever the order they ran in. Each check has its own time limit, and one failing check never stops
 * the others.
 */
import { checkAppRequiresAccess, checkServiceToken } from "./access.ts";
import type { CheckContext, HealthFiles, ServiceToken, Verdict } from "./context.ts";
import { DEFAULT_MTLS_HEADER_NAMES, type MtlsHeaderNames } from "./echo.ts";
import { CheckError } from "./errors.ts";
import { checkCertificateHealth } from "./health.ts";
import { Connector, isLoopbackHost, type ClientCertificate } from "./network.ts";
import { checkOriginAcceptsEdgeCertificate, checkOriginRejectsAnonymous, checkOriginRejectsOtherCa } from "./origin.ts";
import { CHECKS, type CheckName, type CheckReport, type CheckResult, type CheckStatus } from "./types.ts";

export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface CheckOptions {
  /** The app host through Access, such as https://app.example.com. Its path is requested as given. */
  app: URL;
  /** The origin (the ALB's listener), such as https://origin.example.com. */
  origin: URL;
  /** The edge's origin-pull certificate and key, presented in check 2. */
  clientCertificate: ClientCertificate;
  /** Service token for check 5; without one, check 5 is skipped. */
  serviceToken?: ServiceToken;
  /** CA certificate (PEM) trusted for every host's server certificate, on top of Node's bundled roots. Default: none. */
  caPem?: string;
  /** CA certificate (PEM) trusted for loopback hosts (localhost, *.localhost) when `caPem` is not given: the local stack's CA. */
  localCaPem?: string;
  /** Time limit of each check, in seconds. Default 10. */
  timeoutSeconds?: number;
  /** Names of the listener's mTLS headers. Default: the AWS names. */
  headerNames?: MtlsHeaderNames;
  /** PKI files for check 6. */
  healthFiles?: HealthFiles;
  /** Clock for check 5's token times and check 6's expiry. Default: the system clock. */
  now?: () => Date;
  /** Name resolution. Default: *.localhost to 127.0.0.1, other names by DNS. */
  resolve?: (hostname: string) => Promise<string>;
}

type CheckFunction = (context: CheckContext, signal: AbortSignal) => Promise<Verdict>;

/** The run order; see the file comment for why it differs from the numbering. */
const RUN_ORDER: [CheckName, CheckFunction][] = [
  ["app-requires-access", checkAppRequiresAccess],
  ["service-token", checkServiceToken],
  ["origin-rejects-anonymous", checkOriginRejectsAnonymous],
  ["origin-accepts-edge-certificate", checkOriginAcceptsEdgeCertificate],
  ["origin-rejects-other-ca", checkOriginRejectsOtherCa],
  ["certificate-health", checkCertificateHealth],
];

/** Runs `check` with its own time limit; a timeout or an unexpected error becomes a failed verdict. */
async function runBounded(check: CheckFunction, context: CheckContext, timeoutSeconds: number): Promise<Verdict> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutSeconds * 1000);
  try {
    return await check(context, controller.signal);
  } catch (error) {
    if (error instanceof CheckError && error.code === "ERR_CHECK_TIMEOUT") {
      return { status: "fail", reason: `timed out after ${timeoutSeconds} s.`, details: { outcome: "timeout" } };
    }
    if (error instanceof CheckError) return { status: "fail", reason: `${error.message}.`, details: { error: error.code } };
    return { status: "fail", reason: `the check failed unexpectedly: ${(error as Error).message}.`, details: { error: "internal" } };
  } finally {
    clearTimeout(timer);
  }
}

function validate(options: CheckOptions): number {
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 600) {
    throw new CheckError("ERR_CHECK_OPTIONS", `the timeout must be more than 0 and at most 600 seconds (got ${timeoutSeconds})`);
  }
  for (const [name, url] of [["app", options.app], ["origin", options.origin]] as const) {
    if (url.protocol !== "https:") throw new CheckError("ERR_CHECK_OPTIONS", `the ${name} URL must start with https:// (got "${url.href}")`);
  }
  return timeoutSeconds;
}

/** Runs every check against the app and origin hosts; throws CheckError ERR_CHECK_OPTIONS for invalid options only. */
export async function runChecks(options: CheckOptions): Promise<CheckReport> {
  const timeoutSeconds = validate(options);
  const { caPem, localCaPem } = options;
  const connector = new Connector({
    allowed: [options.app, options.origin],
    extraCaFor: (hostname) => {
      if (caPem !== undefined) return [caPem];
      return localCaPem !== undefined && isLoopbackHost(hostname) ? [localCaPem] : [];
    },
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const context: CheckContext = {
    connector,
    appUrl: options.app,
    originUrl: options.origin,
    clientCertificate: options.clientCertificate,
    serviceToken: options.serviceToken,
    headerNames: options.headerNames ?? DEFAULT_MTLS_HEADER_NAMES,
    healthFiles: options.healthFiles ?? {},
    now: options.now ?? (() => new Date()),
    shared: {},
  };

  const verdicts = new Map<CheckName, Verdict>();
  for (const [name, check] of RUN_ORDER) verdicts.set(name, await runBounded(check, context, timeoutSeconds));

  const checks: CheckResult[] = CHECKS.map(({ id, name, title }) => ({ id, name, title, ...(verdicts.get(name) as Verdict) }));
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status] += 1;
  return {
    ok: summary.fail === 0,
    app: options.app.href,
    origin: options.origin.href,
    teamDomain: context.shared.teamDomain ?? null,
    checks,
    summary,
    connections: connector.connections,
  };
}
