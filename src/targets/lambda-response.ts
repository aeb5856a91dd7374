/**
 * Checks a Lambda function's result the way the ALB does (Elastic Load Balancing guide, "Lambda functions as
 * targets", and the access-log error reasons): a malformed result is 502 LambdaInvalidResponse and one over 1 MB
 * is 502 LambdaResponseTooLarge. The ALB sets Content-Length itself and ignores hop-by-hop headers.
 */
import { STATUS_CODES } from "node:http";
import type { HeaderList } from "./index.ts";

/** Largest function result the ALB accepts, measured as JSON: 1 MB. */
export const MAX_LAMBDA_RESPONSE_BYTES = 1024 * 1024;

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"]);

/** A valid result turned into a response, or the error reason with a description for the log. */
export type LambdaResponseResult =
  | { ok: true; status: number; statusText: string | undefined; headers: HeaderList; body: Buffer; warnings: string[] }
  | { ok: false; errorReason: "LambdaInvalidResponse" | "LambdaResponseTooLarge"; detail: string };

function invalid(detail: string): LambdaResponseResult {
  return { ok: false, errorReason: "LambdaInvalidResponse", detail };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readHeaders(value: unknown, multiValue: boolean): HeaderList | string {
  const key = multiValue ? "multiValueHeaders" : "headers";
  if (!isRecord(value)) return `"${key}" must be an object (got ${value === null ? "null" : typeof value})`;

  const list: HeaderList = [];
  for (const [name, entry] of Object.entries(value)) {
    const values = multiValue ? entry : [entry];
    if (!Array.isArray(values) || values.some((item) => typeof item !== "string")) {
      return `"${key}.${name}" must be ${multiValue ? "an array of strings" : "a string"} (got ${JSON.stringify(entry)})`;
    }
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    for (const item of values as string[]) list.push([name, item]);
  }
  return list;
}

/**
 * Validates a result. A header key that does not match the target group's mode ("headers" in multi-value mode,
 * or the reverse) is dropped with a warning, unless `strictHeadersKey` makes the result invalid.
 */
export function readLambdaResponse(result: unknown, multiValueHeaders: boolean, strictHeadersKey: boolean): LambdaResponseResult {
  const json = JSON.stringify(result) ?? "";
  if (Buffer.byteLength(json) > MAX_LAMBDA_RESPONSE_BYTES) {
    return { ok: false, errorReason: "LambdaResponseTooLarge", detail: `result is ${Buffer.byteLength(json)} bytes as JSON, over the limit of ${MAX_LAMBDA_RESPONSE_BYTES}` };
  }
  if (!isRecord(result)) return invalid(`result must be a JSON object (got ${result === null ? "null" : Array.isArray(result) ? "an array" : typeof result})`);

  const { statusCode, statusDescription, body, isBase64Encoded } = result;
  if (typeof statusCode !== "number" || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return invalid(`"statusCode" must be an integer HTTP status from 100 to 599 (got ${JSON.stringify(statusCode)})`);
  }
  if ("statusDescription" in result && typeof statusDescription !== "string") return invalid(`"statusDescription" must be a string such as "200 OK" (got ${JSON.stringify(statusDescription)})`);
  if ("body" in result && typeof body !== "string") return invalid(`"body" must be a string; omit it for an empty body (got ${JSON.stringify(body)})`);
  if ("isBase64Encoded" in result && typeof isBase64Encoded !== "boolean") return invalid(`"isBase64Encoded" must be a boolean (got ${JSON.stringify(isBase64Encoded)})`);

  const warnings: string[] = [];
  const expectedKey = multiValueHeaders ? "multiValueHeaders" : "headers";
  const otherKey = multiValueHeaders ? "headers" : "multiValueHeaders";
  if (otherKey in result) {
    const problem = `result has "${otherKey}", but the target group is in ${multiValueHeaders ? "multi-value" : "single-value"} mode, which reads "${expectedKey}"`;
    if (strictHeadersKey) return invalid(problem);
    warnings.push(`${problem}; "${otherKey}" was dropped`);
  }

  let headers: HeaderList = [];
  if (expectedKey in result) {
    const read = readHeaders(result[expectedKey], multiValueHeaders);
    if (typeof read === "string") return invalid(read);
    headers = read;
  }

  const text = typeof body === "string" ? body : "";
  const statusText = typeof statusDescription === "string" ? statusDescription.replace(/^\d{3}\s*/, "") || undefined : undefined;
  return {
    ok: true,
    status: statusCode,
    statusText: statusText ?? STATUS_CODES[statusCode],
    headers,
    body: isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text, "utf8"),
    warnings,
  };
}
