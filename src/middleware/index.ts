/** Cloudflare Access checks for Node backends behind edgelock: Connect/Express middleware and a plain header check. */
export {
  accessMiddleware,
  verifyAccessRequest,
  accessVerifierFor,
  accessErrorResponse,
  type AccessMiddleware,
  type AccessMiddlewareOptions,
  type AccessRequest,
  type AccessErrorBody,
  type NextFunction,
} from "./access.ts";
export { AccessTokenError, AccessError, type AccessIdentity, type AccessTokenErrorCode, type HeaderSource, type FetchLike } from "../access/index.ts";
