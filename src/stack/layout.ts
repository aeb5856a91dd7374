/**
 * Paths of the local stack's state, all under one folder (default `.edgelock`, git-ignored): the mTLS PKI, the
 * local CA that signs the listeners' server certificates, Access keys and tokens, the PIN outbox and logs.
 */
import { join } from "node:path";

/** Names of the certificates the stack issues. */
export const CERTIFICATE_NAMES = {
  /** Server certificate of the local edge: the app host and the team domain host. */
  edge: "edge",
  /** Server certificate of the local listener. */
  listener: "listener",
} as const;

export interface StackLayout {
  stateDir: string;
  /** The mTLS root CA (the ALB trust store) and the origin-pull client certificate. */
  pkiDir: string;
  /** The local CA for server certificates: the file to trust in a browser or with curl --cacert. */
  localCaDir: string;
  /** Access signing keys and application AUD tags. */
  accessDir: string;
  /** Service-token hashes. */
  serviceTokensFile: string;
  /** One-time PIN messages as .eml files. */
  outboxDir: string;
  /** Connection log, access log and the edge's log. */
  logDir: string;
}

/** Returns the stack's paths under `stateDir`; `pkiDir` may be moved by config.pki.dir. */
export function stackLayout(stateDir: string, pkiDir = join(stateDir, "pki")): StackLayout {
  return {
    stateDir,
    pkiDir,
    localCaDir: join(stateDir, "local-ca"),
    accessDir: join(stateDir, "access"),
    serviceTokensFile: join(stateDir, "access", "service-tokens.json"),
    outboxDir: join(stateDir, "outbox"),
    logDir: join(stateDir, "logs"),
  };
}
