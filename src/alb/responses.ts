/**
 * Responses the ALB makes itself: fixed-response actions and error pages (400, 405, 413, 463, 501, 502). Both carry
 * `Server: awselb/2.0` (Elastic Load Balancing guide, "HTTP header modification"). AWS does not publish the exact
 * bytes of its error pages; ours are a small HTML page with the status line.
 */
import { STATUS_CODES } from "node:http";
import type { TargetResponse } from "../targets/index.ts";

export const SERVER_HEADER: [string, string] = ["Server", "awselb/2.0"];

/** Returns an error page the load balancer sends for `status`, with the access log's error reason if any. */
export function errorPage(status: number, errorReason?: string): TargetResponse {
  const phrase = STATUS_CODES[status] ?? "Error";
  const body = `<html>\r\n<head><title>${status} ${phrase}</title></head>\r\n<body>\r\n<center><h1>${status} ${phrase}</h1></center>\r\n</body>\r\n</html>\r\n`;
  return {
    status,
    headers: [SERVER_HEADER, ["Content-Type", "text/html"]],
    body: Buffer.from(body),
    ...(errorReason === undefined ? {} : { errorReason }),
  };
}

/** Returns the response of a fixed-response action. */
export function fixedResponse(config: { statusCode: number; contentType: string; messageBody: string }): TargetResponse {
  return {
    status: config.statusCode,
    headers: [SERVER_HEADER, ["Content-Type", config.contentType]],
    body: Buffer.from(config.messageBody, "utf8"),
  };
}

/** Writes a complete HTTP/1.1 error response on a socket Node's parser gave up on, then closes it. */
export function writeRawErrorPage(socket: { writable: boolean; end(data: string): void; destroy(): void }, status: number): number {
  const page = errorPage(status);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    `Server: awselb/2.0`,
    `Date: ${new Date().toUTCString()}`,
    `Content-Type: text/html`,
    `Content-Length: ${page.body.length}`,
    `Connection: close`,
  ].join("\r\n");
  const text = `${head}\r\n\r\n${page.body.toString("latin1")}`;
  if (socket.writable) socket.end(text);
  else socket.destroy();
  return Buffer.byteLength(text);
}
