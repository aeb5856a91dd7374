/** Errors of the local edge: each code names one rule, and the message names the value and what to do. */
import { EdgelockError } from "../shared/errors.ts";

export type EdgeErrorCode =
  | "ERR_EDGE_OPTIONS" // createEdge was given an option it cannot use
  | "ERR_EDGE_ORIGIN_URL" // the origin URL is not https or does not point at loopback
  | "ERR_EDGE_LISTEN"; // the HTTPS server could not listen on its port

export class EdgeError extends EdgelockError<EdgeErrorCode> {}
