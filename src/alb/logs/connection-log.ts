/**
 * Connection-log lines in the ALB's field order (Elastic Load Balancing guide, "Connection logs"): one line per
 * connection attempt, successful or not, space-separated, "-" for an empty field, the subject in double quotes.
 * AWS delivers gzip files to S3 every 5 minutes; we append plain lines to one file as connections finish the handshake.
 */
import { randomBytes } from "node:crypto";
import type { VerifyStatus } from "../mtls/reasons.ts";

/** The fields of one connection-log line. */
export interface ConnectionLogEntry {
  /** When the connection was established or failed. */
  time: Date;
  clientIp: string;
  clientPort: number;
  listenerPort: number;
  /** OpenSSL protocol name such as "TLSv1.3"; undefined before TLS agreed on one. */
  tlsProtocol: string | undefined;
  tlsCipher: string | undefined;
  /** Handshake time in seconds; undefined for a failed handshake. */
  handshakeSeconds: number | undefined;
  /** RFC 2253 subject of the client certificate, when one was sent and parsed. */
  leafSubject: string | undefined;
  /** `NotBefore=…;NotAfter=…`. */
  leafValidity: string | undefined;
  leafSerialNumber: string | undefined;
  verifyStatus: VerifyStatus;
  connTraceId: string;
  /** Key exchange group such as "x25519"; undefined when unknown. */
  keyExchange: string | undefined;
  /** Load balancer id, such as "app/edgelock-local/0123456789abcdef". */
  elb: string;
  /** Address of the load balancer node: the listener's local address. */
  nodeIp: string;
}

/** Creates a connection trace id: "TID_" and 32 lowercase hex digits, as in AWS's examples. */
export function createConnTraceId(): string {
  return `TID_${randomBytes(16).toString("hex")}`;
}

/** Formats an instant as ISO 8601 with microseconds, as ALB logs do ("2023-10-04T17:05:15.514108Z"). */
export function microsecondTimestamp(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function field(value: string | number | undefined): string {
  return value === undefined || value === "" ? "-" : String(value);
}

/** Formats one connection-log line, without the newline. */
export function formatConnectionLogLine(entry: ConnectionLogEntry): string {
  return [
    microsecondTimestamp(entry.time),
    entry.clientIp,
    entry.clientPort,
    entry.listenerPort,
    field(entry.tlsProtocol),
    field(entry.tlsCipher),
    entry.handshakeSeconds === undefined ? "-" : entry.handshakeSeconds.toFixed(3),
    entry.leafSubject === undefined ? "-" : `"${entry.leafSubject.replaceAll('"', '\\"')}"`,
    field(entry.leafValidity),
    field(entry.leafSerialNumber),
    entry.verifyStatus,
    entry.connTraceId,
    field(entry.keyExchange),
    entry.elb,
    entry.nodeIp,
  ].join(" ");
}
