/**
 * An HTTP or HTTPS upstream as the target of an instance or IP target group with one registered target. The
 * request carries what the listener built (X-Forwarded-*, X-Amzn-Trace-Id, X-Amzn-Mtls-*) without hop-by-hop
 * headers. Failures follow the Elastic Load Balancing guide, "Troubleshoot your Application Load Balancers":
 *   - refused or reset connection, connection closed with a request outstanding, TLS handshake error, malformed
 *     response → 502;
 *   - no connection within 10 s, or no response data within the idle timeout → 504;
 *   - a group with no registered target → 503.
 * An unhealthy target still gets requests: "If a target group contains only unhealthy targets, the load balancer
 * routes requests to the unhealthy targets" (same guide), and this target is its group's only one.
 * Left out: WebSocket upgrades, streaming (bodies are buffered both ways), deregistration delay, slow start.
 */
import { isIP } from "node:net";
import { checkServerIdentity } from "node:tls";
import { Pool } from "undici";
import type { Logger } from "pino";
import { errorPage } from "../alb/responses.ts";
import { TargetError } from "./errors.ts";
import {
  HealthTracker,
  runHealthCheck,
  validateHealthCheckSettings,
  type CheckResult,
  type HealthCheckSettings,
  type HealthReasonCode,
  type HealthTransition,
  type TargetHealthState,
  type UpstreamTlsOptions,
} from "./health.ts";
import { clientResponseHeaders, headerListFromRaw, lastHeaderValue, targetHostHeader, upstreamRequestHeaders } from "./http-headers.ts";
import type { Target, TargetRequest, TargetResponse } from "./index.ts";

/** The ALB's connection timeout towards targets, in seconds (troubleshooting guide, HTTP 504). */
export const TARGET_CONNECT_TIMEOUT_SECONDS = 10;

/** Largest response header block the ALB accepts from a target: 32 KB; above it the client gets 502. */
export const MAX_RESPONSE_HEADER_BYTES = 32 * 1024;

/**
 * The errorReason values this target sets when the load balancer responds in place of the target.
 * NOTE: these names are ours. The access-log guide defines error_reason codes only for Lambda, authenticate, WAF and
 * weighted target group failures, and writes "-" for other targets. The names follow the TargetConnectionErrorCount
 * and TargetTLSNegotiationErrorCount CloudWatch metrics.
 */
export type HttpTargetErrorReason = "TargetConnectionError" | "TargetTLSNegotiationError" | "TargetResponseError" | "TargetTimeout" | "TargetNotInService";

export interface HttpTargetOptions {
  /** Target name from the configuration, used in log lines. */
  name: string;
  /** Upstream base URL: http:// or https://, host and port, no path. */
  url: string;
  /**
   * Health-check settings (`targets.<name>.healthCheck`). `enabled: false` is rejected, because health checks of
   * instance and IP target groups cannot be turned off (CreateTargetGroup, HealthCheckEnabled).
   */
  healthCheck: HealthCheckSettings & { enabled?: boolean };
  /** The load balancer's idle timeout (`alb.attributes.idleTimeoutSeconds`): longer without response data gives 504. */
  idleTimeoutSeconds: number;
  logger: Logger;
  /** Clock for the health snapshot's timestamps. Default: the system clock. */
  now?: () => Date;
  /** `alb.attributes.preserveHostHeader`. Default false: the listener port is appended to Host (see http-headers.ts). */
  preserveHostHeader?: boolean;
  /** ARN for the access log's target_group_arn. Default undefined. */
  targetGroupArn?: string;
  /** Seconds to establish the upstream connection, TLS included, before 504. Default 10, as the ALB. */
  connectTimeoutSeconds?: number;
  /**
   * Checks the certificate of an https upstream against `upstreamCa` (or Node's CA store). Default false: the ALB
   * does not validate target certificates (Elastic Load Balancing guide, target group "Routing configuration").
   */
  verifyUpstreamCertificate?: boolean;
  /** PEM CA certificates for `verifyUpstreamCertificate`. */
  upstreamCa?: string;
  /**
   * Forwards requests while the target is still "initial". Default false: 503 until the first check passes, since
   * "before a target can receive requests from the load balancer, it must pass the initial health checks" (health
   * checks guide). NOTE: the 503 status for a group whose only target is initial is inferred, not documented.
   */
  serveWhileInitial?: boolean;
}

/** The health of the target at one moment. */
export interface TargetHealthSnapshot {
  state: TargetHealthState;
  /** DescribeTargetHealth reason code; undefined when healthy. */
  reason: HealthReasonCode | undefined;
  description: string;
  /** When the last health check finished; undefined before the first one. */
  lastCheckedAt: Date | undefined;
}

export interface HttpTarget extends Target {
  kind: "http";
  readonly name: string;
  /** "host:port" of the upstream, for the access log's target:port field. */
  readonly address: string;
  /** Registers the target: opens the connection pool, runs the first health check and schedules the next ones. */
  start(): Promise<void>;
  /** Deregisters the target: stops health checks, waits for in-flight requests, closes the pool. */
  stop(): Promise<void>;
  state(): TargetHealthState;
  health(): TargetHealthSnapshot;
  /** Runs one health check now, outside the schedule, and returns the resulting state. Throws ERR_TARGET_STATE before start(). */
  checkNow(): Promise<TargetHealthState>;
}

interface ParsedUrl {
  origin: string;
  /** Host name or IP address without IPv6 brackets. */
  hostname: string;
  address: string;
}

function parseUpstreamUrl(name: string, value: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}.url must be an absolute URL such as "http://127.0.0.1:3000" (got "${value}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}.url must use http: or https: (got "${url.protocol}" in "${value}")`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}.url must not contain credentials; the ALB sends none to targets`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}.url must have no path, query or fragment, because the ALB forwards the request path unchanged (got "${value}"); use "${url.origin}"`);
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return { origin: url.origin, hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"), address: `${url.hostname}:${port}` };
}

function positiveSeconds(name: string, field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}: "${field}" must be a number of seconds above 0 (got ${value})`);
  return value;
}

/** Returns the status, error reason and a description for an error from the upstream request. */
export function classifyUpstreamError(error: unknown): { status: 502 | 504; errorReason: HttpTargetErrorReason; description: string } {
  const failure = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof failure.code === "string" ? failure.code : "";
  const description = `${code === "" ? "" : `${code}: `}${typeof failure.message === "string" ? failure.message : String(error)}`;

  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return { status: 504, errorReason: "TargetTimeout", description };
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO" || code.includes("CERT") || code.startsWith("UNABLE_TO_")) {
    return { status: 502, errorReason: "TargetTLSNegotiationError", description };
  }
  if (failure.name === "HTTPParserError" || code.startsWith("HPE_") || code === "UND_ERR_HEADERS_OVERFLOW" || code === "UND_ERR_RES_CONTENT_LENGTH_MISMATCH") {
    return { status: 502, errorReason: "TargetResponseError", description };
  }
  return { status: 502, errorReason: "TargetConnectionError", description };
}

/** Creates the target; call start() before the listener sends it requests. Throws ERR_TARGET_OPTIONS for bad options. */
export function createHttpTarget(options: HttpTargetOptions): HttpTarget {
  const { name, logger } = options;
  const upstream = parseUpstreamUrl(name, options.url);
  if (options.healthCheck.enabled === false) {
    throw new TargetError("ERR_TARGET_OPTIONS", `targets.${name}.healthCheck.enabled must be true: the ALB cannot turn off health checks of instance and IP target groups`);
  }
  validateHealthCheckSettings(options.healthCheck);
  const idleTimeoutMs = positiveSeconds(name, "idleTimeoutSeconds", options.idleTimeoutSeconds) * 1000;
  const connectTimeoutMs = positiveSeconds(name, "connectTimeoutSeconds", options.connectTimeoutSeconds ?? TARGET_CONNECT_TIMEOUT_SECONDS) * 1000;
  const clock = options.now ?? (() => new Date());
  // undici takes SNI and the name to verify from the Host header, which is the client's; both use the URL's host here.
  // NOTE: whether the ALB sends SNI to targets is not documented. We send the URL's host name; for an IP address,
  // undici sends the forwarded Host's name instead.
  const tls: UpstreamTlsOptions = {
    rejectUnauthorized: options.verifyUpstreamCertificate ?? false,
    ...(options.upstreamCa === undefined ? {} : { ca: options.upstreamCa }),
    checkServerIdentity: (_servername, certificate) => checkServerIdentity(upstream.hostname, certificate),
  };
  const servername = isIP(upstream.hostname) === 0 ? { servername: upstream.hostname } : {};
  const log = logger.child({ target: name });

  const tracker = new HealthTracker(options.healthCheck);
  let pool: Pool | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastCheckedAt: Date | undefined;
  // Incremented by stop(), so a check that finishes after it does not change the state.
  let generation = 0;

  function logTransition(transition: HealthTransition | undefined): void {
    if (transition === undefined) return;
    const failOpen = transition.to === "unhealthy" ? "; requests still go to it, because no target of its group is healthy (fail open)" : "";
    log.info(
      { from: transition.from, to: transition.to, reason: transition.reason, url: upstream.origin },
      `target "${name}" is ${transition.to}${transition.reason === undefined ? "" : ` (${transition.reason})`}: ${transition.description}${failOpen}`,
    );
  }

  async function check(): Promise<TargetHealthState> {
    const started = generation;
    const result: CheckResult = await runHealthCheck(upstream.origin, options.healthCheck, tls);
    if (started !== generation) return tracker.state;
    lastCheckedAt = clock();
    logTransition(tracker.record(result));
    return tracker.state;
  }

  function notInService(): TargetResponse {
    log.warn({ errorReason: "TargetNotInService", state: tracker.state, reason: tracker.reason }, `target "${name}" is ${tracker.state} and not in service; responded with 503`);
    return errorPage(503, "TargetNotInService");
  }

  async function handle(request: TargetRequest): Promise<TargetResponse> {
    const state = tracker.state;
    if (pool === undefined || state === "unused" || (state === "initial" && options.serveWhileInitial !== true)) return notInService();

    const host = targetHostHeader(lastHeaderValue(request.headers, "host"), request.listener.port, options.preserveHostHeader ?? false);
    const headers = upstreamRequestHeaders(request.headers, host).flat();
    try {
      const response = await pool.request({
        method: request.method,
        path: request.rawQuery === "" ? request.path : `${request.path}?${request.rawQuery}`,
        headers,
        body: request.body.length > 0 ? request.body : null,
        responseHeaders: "raw",
        ...servername,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: clientResponseHeaders(headerListFromRaw(response.headers as unknown as Buffer[]), request.method), body };
    } catch (error) {
      const failure = classifyUpstreamError(error);
      log.warn({ errorReason: failure.errorReason, status: failure.status, url: upstream.origin, method: request.method, path: request.path }, `request to target "${name}" failed: ${failure.description}; responded with ${failure.status}`);
      return errorPage(failure.status, failure.errorReason);
    }
  }

  return {
    kind: "http",
    name,
    address: upstream.address,
    targetGroupArn: options.targetGroupArn,
    handle,
    state: () => tracker.state,
    health: () => ({ state: tracker.state, reason: tracker.reason, description: tracker.description, lastCheckedAt }),

    async start() {
      if (pool !== undefined) return;
      pool = new Pool(upstream.origin, {
        connect: { ...tls, timeout: connectTimeoutMs },
        headersTimeout: idleTimeoutMs,
        bodyTimeout: idleTimeoutMs,
        maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
      });
      logTransition(tracker.register());
      timer = setInterval(() => void check(), options.healthCheck.intervalSeconds * 1000);
      timer.unref();
      await check();
    },

    async stop() {
      if (pool === undefined) return;
      generation++;
      clearInterval(timer);
      timer = undefined;
      const closing = pool;
      pool = undefined;
      logTransition(tracker.deregister());
      await closing.close();
    },

    async checkNow() {
      if (pool === undefined) throw new TargetError("ERR_TARGET_STATE", `target "${name}" is not started; call start() before checkNow()`);
      return check();
    },
  };
}
