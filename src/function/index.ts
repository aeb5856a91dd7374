/**
 * Entry point of the deployed Lambda function: the echo handler, guarded by the Cloudflare Access verifier
 * configured from the environment. TEAM_DOMAIN (such as "acme.cloudflareaccess.com") and ACCESS_AUD (the
 * application's AUD tag, or several separated by commas) are required unless REQUIRE_ACCESS_TOKEN is "false".
 */
import { createAccessVerifier, type AccessVerifier } from "../access/verify/index.ts";
import type { AlbEvent, AlbResult } from "./alb-event.ts";
import { createEchoHandler, type EchoOptions } from "./echo.ts";

export { createEchoHandler, ECHO_MESSAGE, type AccessCheck, type EchoOptions } from "./echo.ts";
export type { AlbEvent, AlbResult, LambdaContext } from "./alb-event.ts";

/**
 * Builds the Access check from the environment. Returns undefined when REQUIRE_ACCESS_TOKEN is "false". Throws
 * the verifier's ERR_ACCESS_CONFIG when TEAM_DOMAIN or ACCESS_AUD is missing, so a misconfigured function fails
 * every invocation instead of responding unchecked.
 */
export function loadAccessVerifier(env: Readonly<Record<string, string | undefined>> = process.env): EchoOptions["verifyAccess"] {
  if (env.REQUIRE_ACCESS_TOKEN?.toLowerCase() === "false") return undefined;

  const audience = env.ACCESS_AUD?.split(",").map((aud) => aud.trim()).filter((aud) => aud !== "");
  const verifier = createAccessVerifier({ teamDomain: env.TEAM_DOMAIN, audience: audience?.length ? audience : undefined });
  return accessCheck(verifier);
}

/** Wraps an Access verifier as the echo function's check; the reason never contains the token. */
export function accessCheck(verifier: AccessVerifier): NonNullable<EchoOptions["verifyAccess"]> {
  return async (headers) => {
    try {
      return { ok: true, identity: await verifier.verifyRequest(headers) };
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  };
}

let echo: ((event: AlbEvent) => Promise<AlbResult>) | undefined;

/** Handles one invocation; the verifier is built on the first one and kept for the container's life. */
export async function handler(event: AlbEvent): Promise<AlbResult> {
  echo ??= createEchoHandler({ verifyAccess: loadAccessVerifier() });
  return echo(event);
}
