/** Errors of the targets: each code names one rule, and the message names the value and what to do. */
import { EdgelockError } from "../shared/errors.ts";

export type TargetErrorCode =
  | "ERR_TARGET_OPTIONS" // an option of createHttpTarget is missing or out of range, such as a URL with a path
  | "ERR_TARGET_STATE"; // a method was called in the wrong state, such as checkNow() before start()

export class TargetError extends EdgelockError<TargetErrorCode> {}
