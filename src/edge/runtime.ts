/** State shared by the edge's handlers for the life of one server: settings, stores, the origin pool, the clock. */
import type { CompiledApplication } from "../access/index.ts";
import type { EdgelockConfig, LocalEdgeConfig } from "../config/index.ts";
import type { Logger } from "../shared/logger.ts";
import type { AuthorizationGrants } from "./login/grants.ts";
import type { LoginData } from "./login/flow.ts";
import type { PinStore } from "./login/otp.ts";
import type { OriginPool } from "./origin/pool.ts";
import type { EdgeServiceTokens, EdgeSigningKeys } from "./tokens.ts";

/** Called once per PIN "sent", so the stack can print it on the terminal; never logged. */
export type PinSentCallback = (email: string, pin: string, emlPath: string) => void;

export interface EdgeRuntime {
  config: EdgelockConfig;
  local: LocalEdgeConfig;
  applications: readonly CompiledApplication[];
  signingKeys: EdgeSigningKeys;
  serviceTokens: EdgeServiceTokens;
  stateDir: string;
  /** Hosts served as app hosts: local.edge.host and the plain hosts of the applications. */
  appHosts: ReadonlySet<string>;
  teamHost: string;
  /** Port the server listens on; known once it listens. */
  port: number;
  pins: PinStore<LoginData>;
  /** Logout times (ms) by lowercase email: identity tokens issued before them are revoked, on every app. */
  loggedOut: Map<string, number>;
  grants: AuthorizationGrants;
  origin: OriginPool;
  logger: Logger;
  now: () => Date;
  onPinSent: PinSentCallback;
}

/** Returns `https://<host>` with the edge's port unless it is 443. */
export function edgeOrigin(runtime: EdgeRuntime, host: string): string {
  return runtime.port === 443 ? `https://${host}` : `https://${host}:${runtime.port}`;
}

/** Returns the team domain as tokens name it: `team.localhost:8443` (host and port, no scheme). */
export function teamDomain(runtime: EdgeRuntime): string {
  return runtime.port === 443 ? runtime.teamHost : `${runtime.teamHost}:${runtime.port}`;
}
