/**
 * Cloudflare Access checks for Node backends. Cloudflare's guide for origins recommends that every origin validates
 * the Cf-Access-Jwt-Assertion token itself, because a request that reaches the origin without passing the edge
 * carries no valid token. This module wraps createAccessVerifier for node:http, Connect and Express (`accessMiddleware`), and
 * for frameworks that hand over headers (`verifyAccessRequest`, for Fastify or Hono). It logs nothing: `onReject`
 * lets the application log rejections itself.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  AccessTokenError,
  createAccessVerifier,
  type AccessIdentity,
  type AccessVerifier,
  type FetchLike,
  type HeaderSource,
} from "../access/index.ts";

export interface AccessMiddlewareOptions {
  /** Team domain, such as "acme.cloudflareaccess.com" or, locally, "team.localhost:8443". Required. */
  teamDomain: string;
  /** AUD tag of the Access application (64 hex characters), or several. Required. */
  audience: string | readonly string[];
  /** Fetch for the JWKS, for example one that trusts the local CA. Default: the global fetch. */
  fetch?: FetchLike;
  /** Allowed clock difference for exp and nbf, in seconds, 0 to 300. Default 60. */
  clockToleranceSeconds?: number;
  /** JWKS URL. Default: https://<teamDomain>/cdn-cgi/access/certs. */
  jwksUrl?: string;
  /** Clock. Default: the system clock. */
  now?: () => Date;
  /** Called with the error and the request each time the middleware rejects a request, for the application's log. */
  onReject?: (error: unknown, request: IncomingMessage) => void;
}

/** A request after the middleware accepted it. */
export type AccessRequest = IncomingMessage & { accessIdentity?: AccessIdentity };

/** Connect's and Express's `next`. */
export type NextFunction = (error?: unknown) => void;

/** The middleware, with the verifier it uses. */
export type AccessMiddleware = ((request: IncomingMessage, response: ServerResponse, next: NextFunction) => void) & { readonly verifier: AccessVerifier };

/** JSON body of a rejection; `reason` names the failed rule and never contains the token. */
export interface AccessErrorBody {
  error: "access_token_missing" | "access_token_invalid" | "access_keys_unavailable" | "access_check_failed";
  reason: string;
}

const verifiers = new WeakMap<AccessMiddlewareOptions, AccessVerifier>();

function isVerifier(source: AccessVerifier | AccessMiddlewareOptions): source is AccessVerifier {
  return typeof (source as AccessVerifier).verifyRequest === "function";
}

/**
 * Returns the verifier for `source`: the verifier itself, or one created from the options and kept for that options
 * object, so its JWKS cache lives as long as the options do. Throws AccessError ERR_ACCESS_CONFIG for bad options.
 */
export function accessVerifierFor(source: AccessVerifier | AccessMiddlewareOptions): AccessVerifier {
  if (isVerifier(source)) return source;

  let verifier = verifiers.get(source);
  if (verifier === undefined) {
    const { teamDomain, audience, fetch, clockToleranceSeconds, jwksUrl, now } = source;
    verifier = createAccessVerifier({ teamDomain, audience, fetch, clockToleranceSeconds, jwksUrl, now });
    verifiers.set(source, verifier);
  }
  return verifier;
}

/**
 * Verifies the Access token of a request's headers (a Fetch API Headers object or a plain record, as Fastify and
 * node:http give them) and returns the identity. Throws AccessTokenError for a missing or invalid token.
 */
export function verifyAccessRequest(headers: HeaderSource, source: AccessVerifier | AccessMiddlewareOptions): Promise<AccessIdentity> {
  return accessVerifierFor(source).verifyRequest(headers);
}

/**
 * Returns the status and JSON body for an error of verifyAccessRequest: 401 for a missing or invalid token, 503 when
 * the JWKS cannot be fetched, and 500 with a generic reason for anything else, whose message may be internal.
 */
export function accessErrorResponse(error: unknown): { status: 401 | 500 | 503; body: AccessErrorBody } {
  if (!(error instanceof AccessTokenError)) {
    return { status: 500, body: { error: "access_check_failed", reason: "the Access token could not be checked because of an internal error" } };
  }
  if (error.code === "ERR_JWKS_UNAVAILABLE") return { status: 503, body: { error: "access_keys_unavailable", reason: error.message } };
  if (error.code === "ERR_TOKEN_MISSING") return { status: 401, body: { error: "access_token_missing", reason: error.message } };
  return { status: 401, body: { error: "access_token_invalid", reason: error.message } };
}

/**
 * Creates Connect/Express middleware. A valid token sets `request.accessIdentity` and calls `next()`. Any failure
 * ends the request with the JSON of accessErrorResponse and never calls `next`, so a handler cannot run unchecked.
 * Throws AccessError ERR_ACCESS_CONFIG at creation for a missing or invalid team domain or audience.
 */
export function accessMiddleware(source: AccessVerifier | AccessMiddlewareOptions): AccessMiddleware {
  const verifier = accessVerifierFor(source);
  const onReject = isVerifier(source) ? undefined : source.onReject;

  const middleware = (request: IncomingMessage, response: ServerResponse, next: NextFunction): void => {
    verifier.verifyRequest(request.headers).then(
      (identity) => {
        (request as AccessRequest).accessIdentity = identity;
        next();
      },
      (error: unknown) => {
        onReject?.(error, request);
        const { status, body } = accessErrorResponse(error);
        const text = JSON.stringify(body);
        response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        response.end(text);
      },
    );
  };
  return Object.assign(middleware, { verifier });
}
