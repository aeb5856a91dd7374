/**
 * Base of every error edgelock throws on purpose. `code` is stable and meant for tests and scripts;
 * `kind` separates a user error (bad input, bad config, bad certificate, with a message that names the fix) from an
 * internal one (a bug or an environment failure).
 */
export class EdgelockError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly kind: "user" | "internal";

  constructor(code: Code, message: string, options: { cause?: unknown; kind?: "user" | "internal" } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.kind = options.kind ?? "user";
  }
}

/** Returns true when `error` is an EdgelockError with the given code. */
export function hasCode(error: unknown, code: string): boolean {
  return error instanceof EdgelockError && error.code === code;
}

/** Returns the message of any thrown value, for logs and CLI output. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
