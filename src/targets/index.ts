/**
 * Targets behind the listener's forward actions. The listener turns each HTTP request into a TargetRequest and
 * writes the TargetResponse back; a target never gets the socket. Kinds: an in-process Lambda function and, from
 * another module, an HTTP upstream.
 */

export type HeaderList = [string, string][];

/** The listener a request arrived on, for targets that build protocol-specific events. */
export interface ListenerInfo {
  /** Always "https": the local ALB has one HTTPS listener. */
  protocol: "https";
  port: number;
  /** HTTP version the client spoke: "1.1" or "2.0". */
  httpVersion: string;
}

/** A request after the listener's header processing, as the target receives it. */
export interface TargetRequest {
  /** Uppercase method, such as "GET". */
  method: string;
  /** Path without the query string, as the client sent it (not decoded). */
  path: string;
  /** Query string without "?", as the client sent it (not decoded); "" when there is none. */
  rawQuery: string;
  /** Header list in arrival order, with the listener's headers added; names keep the client's case. */
  headers: HeaderList;
  /** The whole request body; empty when there is none. */
  body: Buffer;
  clientAddress: string;
  clientPort: number;
  listener: ListenerInfo;
}

/** A response for the client. */
export interface TargetResponse {
  status: number;
  /** Reason phrase for HTTP/1.1; the standard phrase when absent. */
  statusText?: string;
  headers: HeaderList;
  body: Buffer;
  /**
   * Set when the load balancer responded in place of the target (502, 413, …): the access log's error_reason, such as
   * "LambdaInvalidResponse". The access log then writes "-" as target_status_code.
   */
  errorReason?: string;
}

/** A destination of forward actions. */
export interface Target {
  kind: "lambda" | "http";
  /** ARN of the target group, for the access log's target_group_arn; undefined for local-only targets. */
  targetGroupArn: string | undefined;
  /** Handles one request. Rejects only on bugs; target failures resolve with an `errorReason` response. */
  handle(request: TargetRequest): Promise<TargetResponse>;
}

export { createLambdaTarget, type LambdaTargetOptions, type LambdaHandler } from "./lambda.ts";
export { buildAlbEvent, MAX_LAMBDA_REQUEST_BYTES } from "./lambda-event.ts";
export { readLambdaResponse, MAX_LAMBDA_RESPONSE_BYTES, type LambdaResponseResult } from "./lambda-response.ts";
export { createHttpTarget, classifyUpstreamError, TARGET_CONNECT_TIMEOUT_SECONDS, MAX_RESPONSE_HEADER_BYTES, type HttpTarget, type HttpTargetOptions, type HttpTargetErrorReason, type TargetHealthSnapshot } from "./http.ts";
export { parseMatcher, runHealthCheck, HealthTracker, HEALTH_CHECK_USER_AGENT, type HealthCheckSettings, type TargetHealthState, type HealthReasonCode, type CheckResult, type HealthTransition } from "./health.ts";
export { TargetError, type TargetErrorCode } from "./errors.ts";
