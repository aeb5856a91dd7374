/**
 * Connection-log verify results of an ALB in mTLS verify mode. The codes are the complete list in the AWS
 * connection-log documentation (load-balancer-connection-logs.html); the conditions we attach to each are ours.
 */

export const FAILURE_REASONS = [
  "ClientCertExpired",
  "ClientCertNotYetValid",
  "ClientCertUntrusted",
  "ClientCertCrlHit",
  "ClientCertCrlProcessingError",
  "ClientCertMaxChainDepthExceeded",
  "ClientCertMaxSizeExceeded",
  "ClientCertTypeUnsupported",
  "ClientCertIncompatible",
  "ClientCertInvalid",
  "ClientCertPurposeInvalid",
  "ClientCertRejected",
  "UnmappedConnectionError",
] as const;

/** A failure code as the connection log writes it after "Failed:". */
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** The connection log's tls_verify_status field: "Success", "Failed:<code>", or "-" when mTLS is off. */
export type VerifyStatus = "Success" | `Failed:${FailureReason}` | "-";

/** Formats a verify outcome for the connection log. */
export function verifyStatus(reason: FailureReason | undefined): VerifyStatus {
  return reason === undefined ? "Success" : `Failed:${reason}`;
}
