/** The local Application Load Balancer: HTTPS listener with mutual TLS, trust store, rules and logs. */
export { createListener, type Listener, type ListenerOptions } from "./listener.ts";
export { AlbError, type AlbErrorCode } from "./errors.ts";
export { createTrustStore, loadTrustStore, type TrustStore, type TrustStoreText, type LoadTrustStoreOptions } from "./trust-store.ts";
export { parseRevocationList, serialFromBytes, type RevocationList } from "./revocation.ts";
export { compileRules, wildcardPattern, hostWithoutPort, type RuleMatch, type RuleRequest } from "./rules.ts";
export { verifyClientCertificate, unsupportedKey, type VerifyOptions, type VerifyResult } from "./mtls/verify.ts";
export { parseCertificate, formatSerialNumber, formatValidity, type CertificateInfo, type KeyDescription } from "./mtls/certificate-info.ts";
export { formatRfc2253, escapeAttributeValue } from "./mtls/distinguished-name.ts";
export { FAILURE_REASONS, verifyStatus, type FailureReason, type VerifyStatus } from "./mtls/reasons.ts";
export { encodePem, verifyModeHeaders, passthroughHeader, reservedHeaderNames, stripReservedHeaders } from "./headers/mtls-headers.ts";
export { applyForwardingHeaders, createTraceId, MAX_FORWARDED_ADDRESSES, type XffMode } from "./headers/forwarded.ts";
export { classifyRequest, classifyParserError, desyncAction, dropInvalidHeaderFields, hasUnsupportedTransferEncoding, type DesyncClass, type DesyncMode } from "./http-validation.ts";
export { tlsOptionsForPolicy, type SslPolicy } from "./tls-policy.ts";
export { formatConnectionLogLine, createConnTraceId, microsecondTimestamp, type ConnectionLogEntry } from "./logs/connection-log.ts";
export { formatAccessLogLine, type AccessLogEntry } from "./logs/access-log.ts";
export { errorPage, fixedResponse, SERVER_HEADER } from "./responses.ts";
