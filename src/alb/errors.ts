/** Errors of the local ALB: each code names one rule, and the message names the value and what to do. */
import { EdgelockError } from "../shared/errors.ts";

export type AlbErrorCode =
  | "ERR_ALB_BUNDLE" // the CA bundle breaks a trust-store rule (InvalidCaCertificatesBundle on AWS)
  | "ERR_ALB_REVOCATION" // a CRL file is not PEM, not from a store CA or badly signed (InvalidRevocationContent)
  | "ERR_ALB_FILE" // a trust-store or CRL file cannot be read
  | "ERR_ALB_LISTENER"; // the listener options are inconsistent, such as a rule forwarding to an unknown target

export class AlbError extends EdgelockError<AlbErrorCode> {}
