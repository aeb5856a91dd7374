/**
 * Builds the ALB's Lambda event from a request (Elastic Load Balancing guide, "Lambda functions as targets"):
 * lowercase header names, query values left URL-encoded, and a text or base64 body depending on Content-Type and
 * Content-Encoding. Undocumented corners follow the recommended defaults: media-type parameters are ignored, and
 * "+json" types and a body without Content-Type are base64.
 */
import type { AlbEvent } from "../function/alb-event.ts";
import type { TargetRequest } from "./index.ts";

/** Largest request body the ALB passes to a function: 1 MB; above it the client gets 413. */
export const MAX_LAMBDA_REQUEST_BYTES = 1024 * 1024;

const TEXT_TYPES = new Set(["application/json", "application/javascript", "application/xml"]);

/** Returns true when the ALB passes the body as text: no Content-Encoding and a text/*, JSON, JavaScript or XML type. */
export function isTextBody(contentType: string | undefined, contentEncoding: string | undefined): boolean {
  if (contentEncoding !== undefined && contentEncoding.trim() !== "") return false;
  if (contentType === undefined) return false;
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return mediaType.startsWith("text/") || TEXT_TYPES.has(mediaType);
}

/** Splits a raw query string into encoded key/value pairs; "a" without "=" gives the value "". */
export function parseRawQuery(rawQuery: string): [string, string][] {
  if (rawQuery === "") return [];
  return rawQuery
    .split("&")
    .filter((part) => part !== "")
    .map((part) => {
      const separator = part.indexOf("=");
      return separator === -1 ? [part, ""] : [part.slice(0, separator), part.slice(separator + 1)];
    });
}

function lastHeader(request: TargetRequest, name: string): string | undefined {
  let found: string | undefined;
  for (const [candidate, value] of request.headers) if (candidate.toLowerCase() === name) found = value;
  return found;
}

/**
 * Builds the event. Throws a TypeError when a text body is not valid UTF-8, for which the ALB returns 502
 * LambdaBadRequest.
 */
export function buildAlbEvent(request: TargetRequest, targetGroupArn: string, multiValueHeaders: boolean): AlbEvent {
  const event: AlbEvent = {
    requestContext: { elb: { targetGroupArn } },
    httpMethod: request.method,
    path: request.path,
    body: "",
    isBase64Encoded: false,
  };

  const pairs = parseRawQuery(request.rawQuery);
  if (multiValueHeaders) {
    const query: Record<string, string[]> = {};
    for (const [key, value] of pairs) (query[key] ??= []).push(value);
    const headers: Record<string, string[]> = {};
    for (const [name, value] of request.headers) (headers[name.toLowerCase()] ??= []).push(value);
    event.multiValueQueryStringParameters = query;
    event.multiValueHeaders = headers;
  } else {
    event.queryStringParameters = Object.fromEntries(pairs);
    event.headers = Object.fromEntries(request.headers.map(([name, value]) => [name.toLowerCase(), value]));
  }

  if (request.body.length > 0) {
    if (isTextBody(lastHeader(request, "content-type"), lastHeader(request, "content-encoding"))) {
      event.body = new TextDecoder("utf-8", { fatal: true }).decode(request.body);
    } else {
      event.body = request.body.toString("base64");
      event.isBase64Encoded = true;
    }
  }
  return event;
}
