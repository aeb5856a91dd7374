/** The facts `edgelock check` reports: one result per check, and the report a run returns. */

/** Outcome of one check. "warn" and "skip" do not fail the run; "fail" does. */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

/** Number and stable name of each check, in the order the report lists them. */
export const CHECKS = [
  { id: 1, name: "origin-rejects-anonymous", title: "Origin rejects clients without a certificate" },
  { id: 2, name: "origin-accepts-edge-certificate", title: "Origin accepts the edge's certificate" },
  { id: 3, name: "origin-rejects-other-ca", title: "Origin rejects a certificate from another CA" },
  { id: 4, name: "app-requires-access", title: "App host requires Access" },
  { id: 5, name: "service-token", title: "Service token reaches the origin" },
  { id: 6, name: "certificate-health", title: "Certificate health" },
] as const;

export type CheckName = (typeof CHECKS)[number]["name"];

/** Facts a check observed, for `--json`: statuses, serials, days left. Never keys, secrets or tokens. */
export type CheckDetails = Record<string, string | number | boolean | null | string[] | Record<string, string | number | null>>;

export interface CheckResult {
  id: number;
  name: CheckName;
  title: string;
  status: CheckStatus;
  /** One or two plain sentences: what was seen and, on failure, the likely cause. */
  reason: string;
  details: CheckDetails;
}

/** One TCP connection the run started, whether or not the host accepted it. */
export interface ConnectionRecord {
  host: string;
  port: number;
  /** Address connected to after name resolution. */
  address: string;
}

export interface CheckReport {
  /** True when no check failed; warnings and skipped checks do not count against it. */
  ok: boolean;
  app: string;
  origin: string;
  /** Team domain host[:port] learned from the app's login redirect, when there was one. */
  teamDomain: string | null;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
  /** Every connection started, in order. Only the app host, the origin host and the team domain appear. */
  connections: ConnectionRecord[];
}
