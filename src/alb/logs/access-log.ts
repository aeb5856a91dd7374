/**
 * Access-log lines in the ALB's field order (Elastic Load Balancing guide, "Access logs"), from `type` to
 * `conn_trace_id`. Lambda targets write "-" for target:port; a response the ALB made itself writes "-" as
 * target_status_code and its error_reason, such as "LambdaInvalidResponse".
 */
import { microsecondTimestamp } from "./connection-log.ts";

/** The fields of one access-log line. */
export interface AccessLogEntry {
  /** "https" for HTTP/1.x over TLS, "h2" for HTTP/2. */
  type: "https" | "h2";
  /** When the response was sent. */
  time: Date;
  elb: string;
  clientIp: string;
  clientPort: number;
  /** "ip:port" of an HTTP target; undefined for Lambda targets and ALB responses. */
  target: string | undefined;
  /** Seconds; -1 when the request did not reach a target, as the ALB writes. */
  requestProcessingSeconds: number;
  targetProcessingSeconds: number;
  responseProcessingSeconds: number;
  elbStatusCode: number;
  /** undefined when the target did not respond (ALB responses, target errors). */
  targetStatusCode: number | undefined;
  receivedBytes: number;
  sentBytes: number;
  /** `METHOD https://host:port/path?query HTTP/version`. */
  request: string;
  userAgent: string | undefined;
  sslCipher: string | undefined;
  sslProtocol: string | undefined;
  targetGroupArn: string | undefined;
  traceId: string | undefined;
  /** SNI host name. */
  domainName: string | undefined;
  /** 0 for the default action; undefined when no rule was evaluated. */
  matchedRulePriority: number | undefined;
  requestCreationTime: Date;
  /** Such as ["forward"] or ["fixed-response"]. */
  actionsExecuted: string[];
  errorReason: string | undefined;
  classification: string | undefined;
  classificationReason: string | undefined;
  connTraceId: string;
}

function plain(value: string | number | undefined): string {
  return value === undefined || value === "" ? "-" : String(value);
}

function quoted(value: string | undefined): string {
  return `"${value === undefined || value === "" ? "-" : value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function seconds(value: number): string {
  return value < 0 ? "-1" : value.toFixed(3);
}

/** Formats one access-log line, without the newline. */
export function formatAccessLogLine(entry: AccessLogEntry): string {
  return [
    entry.type,
    microsecondTimestamp(entry.time),
    entry.elb,
    `${entry.clientIp}:${entry.clientPort}`,
    plain(entry.target),
    seconds(entry.requestProcessingSeconds),
    seconds(entry.targetProcessingSeconds),
    seconds(entry.responseProcessingSeconds),
    entry.elbStatusCode,
    plain(entry.targetStatusCode),
    entry.receivedBytes,
    entry.sentBytes,
    quoted(entry.request),
    quoted(entry.userAgent),
    plain(entry.sslCipher),
    plain(entry.sslProtocol),
    plain(entry.targetGroupArn),
    quoted(entry.traceId),
    quoted(entry.domainName),
    quoted(undefined), // chosen_cert_arn: the local listener has one certificate and no ARN
    plain(entry.matchedRulePriority),
    microsecondTimestamp(entry.requestCreationTime),
    quoted(entry.actionsExecuted.join(",")),
    quoted(undefined), // redirect_url: redirect actions are not supported
    quoted(entry.errorReason),
    quoted(entry.target),
    quoted(entry.targetStatusCode === undefined ? undefined : String(entry.targetStatusCode)),
    quoted(entry.classification),
    quoted(entry.classificationReason),
    entry.connTraceId,
  ].join(" ");
}
