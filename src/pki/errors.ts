/** Errors of the PKI: each code names one rule, and the message names the value and what to do. */
import { EdgelockError } from "../shared/errors.ts";

export type PkiErrorCode =
  | "ERR_PKI_KEY_TYPE" // a key type or size the ALB does not accept
  | "ERR_PKI_SIGNATURE" // a signature algorithm the ALB does not accept
  | "ERR_PKI_NO_CA" // the state folder has no root CA
  | "ERR_PKI_CA_EXISTS" // init would replace an existing CA
  | "ERR_PKI_NAME_CLASH" // a certificate with that name exists
  | "ERR_PKI_NOT_FOUND" // no certificate with that name or serial
  | "ERR_PKI_ALREADY_REVOKED" // revoke of a certificate that is already revoked
  | "ERR_PKI_STATE_CORRUPT" // a state file cannot be read
  | "ERR_PKI_INVALID_INPUT" // a bad name, host, address or validity
  | "ERR_PKI_BUNDLE"; // a CA bundle breaks the ALB's format rules

export class PkiError extends EdgelockError<PkiErrorCode> {}
