/**
 * The echo function: the deployed Lambda target. It returns 200 with a greeting and the event it received, the
 * target-group ARN replaced by "[HIDDEN]", so a caller can see exactly what the ALB forwarded. With an Access
 * verifier it first checks the Cloudflare Access token and responds with 401 when it is invalid.
 * Bundled with esbuild for deployment: keep imports to types and the Access verifier.
 */
import type { AlbEvent, AlbResult } from "./alb-event.ts";

/** The outcome of an Access token check. `reason` is a message for the client and never contains the token. */
export type AccessCheck = { ok: true; identity: unknown } | { ok: false; reason: string };

export interface EchoOptions {
  /** Checks the request's Access token; when absent, every request gets the echo. */
  verifyAccess?: (headers: Record<string, string | string[]>) => Promise<AccessCheck>;
}

export const ECHO_MESSAGE = "Hello from Lambda!";

function respond(event: AlbEvent, statusCode: number, statusDescription: string, payload: unknown): AlbResult {
  const headers = { "content-type": "application/json" };
  // The event's shape shows the target group's mode, and the result must use the matching headers key.
  const multiValue = event.multiValueHeaders !== undefined;
  return {
    statusCode,
    statusDescription,
    ...(multiValue ? { multiValueHeaders: { "content-type": [headers["content-type"]] } } : { headers }),
    body: JSON.stringify(payload),
    isBase64Encoded: false,
  };
}

/** Creates the echo handler. */
export function createEchoHandler(options: EchoOptions = {}): (event: AlbEvent) => Promise<AlbResult> {
  return async (event) => {
    if (options.verifyAccess !== undefined) {
      const check = await options.verifyAccess(event.multiValueHeaders ?? event.headers ?? {});
      if (!check.ok) return respond(event, 401, "401 Unauthorized", { error: "access_token_invalid", reason: check.reason });
    }

    const echoedEvent: AlbEvent = { ...event, requestContext: { elb: { targetGroupArn: "[HIDDEN]" } } };
    return respond(event, 200, "200 OK", { message: ECHO_MESSAGE, event: echoedEvent });
  };
}
