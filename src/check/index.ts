/** `edgelock check`: the reference deployment's checks against the app host and the origin, local or deployed. */
export { runChecks, DEFAULT_TIMEOUT_SECONDS, type CheckOptions } from "./run.ts";
export { formatReport, formatReportJson } from "./format.ts";
export { CheckError, type CheckErrorCode } from "./errors.ts";
export { CHECKS, type CheckName, type CheckReport, type CheckResult, type CheckStatus, type CheckDetails, type ConnectionRecord } from "./types.ts";
export type { HealthFiles, ServiceToken } from "./context.ts";
export { DEFAULT_MTLS_HEADER_NAMES, type MtlsHeaderNames } from "./echo.ts";
export { isLoopbackHost, type ClientCertificate } from "./network.ts";
export { CERTIFICATE_WARNING_DAYS, CRL_WARNING_DAYS } from "./health.ts";
