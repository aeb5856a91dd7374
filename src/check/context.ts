/** The check context (inputs every check receives and state the checks pass on), and phrases for probe outcomes. */
import type { MtlsHeaderNames } from "./echo.ts";
import type { ClientCertificate, Connector, ProbeOutcome } from "./network.ts";
import type { CheckDetails, CheckStatus } from "./types.ts";

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
}

/** Files of the PKI folder the health check reads; a missing file is reported, not thrown. */
export interface HealthFiles {
  /** The mTLS root CA certificate (ca/cert.pem). */
  caCertificateFile?: string;
  /** The CRL uploaded to the trust store (crl.pem). */
  crlFile?: string;
}

export interface CheckContext {
  connector: Connector;
  appUrl: URL;
  originUrl: URL;
  clientCertificate: ClientCertificate;
  serviceToken: ServiceToken | undefined;
  headerNames: MtlsHeaderNames;
  healthFiles: HealthFiles;
  now: () => Date;
  /** State the checks pass on in run order. Check 4 sets the team domain, the AUD and the JWKS, and check 5 sets the app token. */
  shared: {
    teamDomain?: string;
    aud?: string;
    jwksBody?: string;
    appToken?: string;
  };
}

/** A check's verdict before the runner adds its number and title. */
export interface Verdict {
  status: CheckStatus;
  reason: string;
  details: CheckDetails;
}

/** Describes a connection that ended without an HTTP response, such as "connection reset after the request was sent". */
export function describeEnding(outcome: Extract<ProbeOutcome, { kind: "no-response" }>): string {
  const when = outcome.duringHandshake ? "during the TLS handshake" : "after the request was sent";
  return `${outcome.detail} ${when}, without an HTTP response`;
}

/** Describes a probe that got no TCP or TLS session at all, as the reason of a failed check. */
export function describeConnectionProblem(outcome: Extract<ProbeOutcome, { kind: "untrusted-server" | "unreachable" | "failed" }>, url: URL): string {
  switch (outcome.kind) {
    case "untrusted-server":
      return `the server certificate of ${url.host} did not verify (${outcome.code}); pass --ca FILE with the CA that signed it`;
    case "unreachable":
      return `could not connect to ${url.host} (${outcome.code}); check that it is running and reachable from here`;
    case "failed":
      return `the connection to ${url.host} failed (${outcome.code}: ${outcome.detail})`;
  }
}

/** Facts about a probe for `--json`. */
export function outcomeDetails(outcome: ProbeOutcome): CheckDetails {
  switch (outcome.kind) {
    case "response":
      return { outcome: "response", httpStatus: outcome.status };
    case "no-response":
      return { outcome: outcome.ending, duringHandshake: outcome.duringHandshake };
    default:
      return { outcome: outcome.kind, code: outcome.code };
  }
}
