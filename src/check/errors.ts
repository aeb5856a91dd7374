/** Errors of `edgelock check`. A failing check is a result, not an error; these stop the run or one request. */
import { EdgelockError } from "../shared/errors.ts";

export type CheckErrorCode =
  /** An option is missing or invalid, such as an http:// URL or a certificate file without its key. */
  | "ERR_CHECK_OPTIONS"
  /** A request would go to a host other than the app, the origin and the team domain. */
  | "ERR_CHECK_HOST_NOT_ALLOWED"
  /** The per-check time limit ran out. */
  | "ERR_CHECK_TIMEOUT";

export class CheckError extends EdgelockError<CheckErrorCode> {}
