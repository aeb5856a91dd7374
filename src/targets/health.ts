/**
 * Health checks as an ALB runs them for instance and IP targets (Elastic Load Balancing guide, "Health checks for
 * Application Load Balancer target groups"). Every interval the load balancer sends a GET of the health path with
 * user agent ELB-HealthChecker/2.0 and closes that connection afterwards. A newly registered target becomes healthy
 * after one passing check. A target then turns unhealthy after UnhealthyThresholdCount consecutive failures, and
 * healthy again after HealthyThresholdCount consecutive successes. States, reason codes and their descriptions are
 * those of DescribeTargetHealth as the same guide lists them. Left out: health-check ports other than the target's, gRPC matchers and health-check logs.
 */
import type { PeerCertificate } from "node:tls";
import { Client } from "undici";
import { TargetError } from "./errors.ts";

/** Target states of DescribeTargetHealth that the local stack uses. */
export type TargetHealthState = "initial" | "healthy" | "unhealthy" | "unused";

/** DescribeTargetHealth reason codes; a healthy target has none. */
export type HealthReasonCode =
  | "Elb.InitialHealthChecking"
  | "Target.ResponseCodeMismatch"
  | "Target.Timeout"
  | "Target.FailedHealthChecks"
  | "Target.NotRegistered";

export const HEALTH_CHECK_USER_AGENT = "ELB-HealthChecker/2.0";

/**
 * Health-check settings, named as in the configuration. The schema limits them to the AWS ranges (interval 5-300 s,
 * timeout 2-120 s, thresholds 2-10), but this module accepts any positive values, so tests can use short intervals.
 */
export interface HealthCheckSettings {
  /** Path and optional query of the GET, such as "/health". */
  path: string;
  /** Seconds between two checks; each check runs on its own schedule, whatever the previous one took. */
  intervalSeconds: number;
  /** Seconds after which a check without a complete response fails with Target.Timeout. */
  timeoutSeconds: number;
  /** Consecutive successes that turn an unhealthy target healthy. */
  healthyThreshold: number;
  /** Consecutive failures that turn an initial or healthy target unhealthy. */
  unhealthyThreshold: number;
  /** Healthy status codes: "200", a range "200-299", or a list "200,302"; codes from 200 to 499. */
  matcher: string;
}

/** TLS options towards an https upstream, shared by health checks and forwarded requests. */
export interface UpstreamTlsOptions {
  rejectUnauthorized: boolean;
  /** PEM CA certificates; default Node's CA store. */
  ca?: string;
  /** Checks the certificate's names against the upstream URL's host instead of the forwarded Host header. */
  checkServerIdentity?: (servername: string, certificate: PeerCertificate) => Error | undefined;
}

/** One check's outcome, with a `description` of the failure for the transition log line. */
export type CheckResult =
  | { ok: true; status: number }
  | { ok: false; reason: "Target.ResponseCodeMismatch" | "Target.Timeout" | "Target.FailedHealthChecks"; description: string };

/** A change of state, returned by HealthTracker so the caller can log it. */
export interface HealthTransition {
  from: TargetHealthState;
  to: TargetHealthState;
  reason: HealthReasonCode | undefined;
  description: string;
}

/**
 * Parses a matcher into a predicate. Throws ERR_TARGET_OPTIONS for a malformed matcher or a code outside 200-499,
 * the range the ALB accepts for HTTP and HTTPS health checks.
 */
export function parseMatcher(matcher: string): (status: number) => boolean {
  const ranges: [number, number][] = [];
  for (const part of matcher.split(",")) {
    const match = /^(\d{3})(?:-(\d{3}))?$/.exec(part.trim());
    if (match === null) {
      throw new TargetError("ERR_TARGET_OPTIONS", `health check "matcher" must be codes such as "200", "200-299" or "200,302" (got "${matcher}")`);
    }
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < 200 || high > 499 || low > high) {
      throw new TargetError("ERR_TARGET_OPTIONS", `health check "matcher" must use codes from 200 to 499 with ranges low-high (got "${part.trim()}" in "${matcher}")`);
    }
    ranges.push([low, high]);
  }
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}

/** Checks the settings once; throws ERR_TARGET_OPTIONS naming the first bad field. */
export function validateHealthCheckSettings(settings: HealthCheckSettings): void {
  if (!settings.path.startsWith("/")) {
    throw new TargetError("ERR_TARGET_OPTIONS", `health check "path" must start with "/" (got "${settings.path}")`);
  }
  for (const field of ["intervalSeconds", "timeoutSeconds"] as const) {
    const value = settings[field];
    if (!Number.isFinite(value) || value <= 0) throw new TargetError("ERR_TARGET_OPTIONS", `health check "${field}" must be a number of seconds above 0 (got ${value})`);
  }
  for (const field of ["healthyThreshold", "unhealthyThreshold"] as const) {
    const value = settings[field];
    if (!Number.isInteger(value) || value < 1) throw new TargetError("ERR_TARGET_OPTIONS", `health check "${field}" must be an integer of 1 or more (got ${value})`);
  }
  parseMatcher(settings.matcher);
}

function describeError(error: unknown): string {
  const failure = error as { code?: unknown; message?: unknown };
  const code = typeof failure.code === "string" ? `${failure.code}: ` : "";
  return `${code}${typeof failure.message === "string" ? failure.message : String(error)}`;
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/**
 * Runs one health check against `origin` ("http://127.0.0.1:3000") on a connection of its own, closed afterwards.
 * `connect` carries the TLS options for an https origin. Never rejects: every failure becomes a CheckResult.
 */
export async function runHealthCheck(origin: string, settings: HealthCheckSettings, connect: UpstreamTlsOptions): Promise<CheckResult> {
  const timeoutMs = settings.timeoutSeconds * 1000;
  const client = new Client(origin, { connect: { ...connect, timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, pipelining: 0 });
  const matches = parseMatcher(settings.matcher);
  const signal = AbortSignal.timeout(timeoutMs);

  try {
    const response = await client.request({ method: "GET", path: settings.path, headers: { "user-agent": HEALTH_CHECK_USER_AGENT }, signal });
    await response.body.dump();
    if (matches(response.statusCode)) return { ok: true, status: response.statusCode };
    return { ok: false, reason: "Target.ResponseCodeMismatch", description: `Health checks failed with these codes: [${response.statusCode}] (GET ${settings.path}, matcher "${settings.matcher}")` };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (signal.aborted || (typeof code === "string" && TIMEOUT_CODES.has(code))) {
      return { ok: false, reason: "Target.Timeout", description: `Request timed out (GET ${settings.path}, no complete response within ${settings.timeoutSeconds} s)` };
    }
    return { ok: false, reason: "Target.FailedHealthChecks", description: `Health checks failed (GET ${settings.path}: ${describeError(error)})` };
  } finally {
    await client.destroy();
  }
}

/** The health state machine of one target, fed with check results. Pure: no timers, no network. */
export class HealthTracker {
  #state: TargetHealthState = "unused";
  #reason: HealthReasonCode | undefined = "Target.NotRegistered";
  #description = "the target is not registered";
  #successes = 0;
  #failures = 0;
  readonly #settings: HealthCheckSettings;

  constructor(settings: HealthCheckSettings) {
    this.#settings = settings;
  }

  get state(): TargetHealthState {
    return this.#state;
  }

  get reason(): HealthReasonCode | undefined {
    return this.#reason;
  }

  get description(): string {
    return this.#description;
  }

  /** Registers the target: initial until its first check passes. */
  register(): HealthTransition | undefined {
    if (this.#state !== "unused") return undefined;
    return this.#move("initial", "Elb.InitialHealthChecking", "registered; waiting for the first health check to pass");
  }

  /** Deregisters the target: unused, and later results are ignored. */
  deregister(): HealthTransition | undefined {
    if (this.#state === "unused") return undefined;
    return this.#move("unused", "Target.NotRegistered", "deregistered");
  }

  /** Applies one check result; returns the transition when the state changed. */
  record(result: CheckResult): HealthTransition | undefined {
    if (this.#state === "unused") return undefined;

    if (result.ok) {
      this.#failures = 0;
      this.#successes++;
      if (this.#state === "initial") return this.#move("healthy", undefined, `health check passed with ${result.status}`);
      if (this.#state === "unhealthy" && this.#successes >= this.#settings.healthyThreshold) {
        return this.#move("healthy", undefined, `${this.#successes} consecutive health checks passed (healthy threshold ${this.#settings.healthyThreshold})`);
      }
      return undefined;
    }

    this.#successes = 0;
    this.#failures++;
    if (this.#state === "unhealthy") {
      // The reason code follows the latest failure, as DescribeTargetHealth reports it.
      this.#reason = result.reason;
      this.#description = result.description;
      return undefined;
    }
    if (this.#failures >= this.#settings.unhealthyThreshold) {
      return this.#move("unhealthy", result.reason, `${result.description} (${this.#failures} consecutive failures, unhealthy threshold ${this.#settings.unhealthyThreshold})`);
    }
    return undefined;
  }

  #move(to: TargetHealthState, reason: HealthReasonCode | undefined, description: string): HealthTransition {
    const from = this.#state;
    this.#state = to;
    this.#reason = reason;
    this.#description = description;
    this.#successes = 0;
    this.#failures = 0;
    return { from, to, reason, description };
  }
}
