/** The local edge: Cloudflare Access and Authenticated Origin Pulls in front of the local listener. */
export { createEdge, type Edge, type EdgeOptions, type EdgeOriginOptions } from "./server.ts";
export { EdgeError, type EdgeErrorCode } from "./errors.ts";
export type { PinSentCallback } from "./runtime.ts";
export { classifyOriginFailure, type OriginFailure, type OriginPhase } from "./origin/errors.ts";
export { buildOriginRequestHeaders, filterOriginResponseHeaders } from "./origin/headers.ts";
export { negotiateLanguage, type Language } from "./login/i18n.ts";
export { sameHostRedirect } from "./login/flow.ts";
