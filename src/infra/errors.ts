/** Errors of the Pulumi program: each code names one rule, and the message names the value and the fix. */
import { EdgelockError } from "../shared/errors.ts";

export type InfraErrorCode =
  | "ERR_INFRA_INVALID_ARGS" // a component received arguments that break its rules
  | "ERR_INFRA_STACK_CONFIG" // a Pulumi stack config key is missing or invalid
  | "ERR_INFRA_PKI_FILE"; // a PKI file the deployment needs is missing, unreadable or expiring

export class InfraError extends EdgelockError<InfraErrorCode> {
  /** One line per problem, for callers that list them. */
  readonly problems: string[];

  constructor(code: InfraErrorCode, message: string, problems: string[] = [], cause?: unknown) {
    super(code, message, { cause });
    this.problems = problems;
  }
}

/**
 * Throws ERR_INFRA_INVALID_ARGS listing every problem when `problems` is not empty. Components call it before
 * `super()`, so invalid arguments create no resource at all, not even the component itself.
 */
export function rejectInvalidArgs(type: string, name: string, problems: string[]): void {
  if (problems.length === 0) return;
  throw new InfraError(
    "ERR_INFRA_INVALID_ARGS",
    `${type} "${name}" has invalid arguments (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`,
    problems,
  );
}
