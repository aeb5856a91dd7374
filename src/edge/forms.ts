/** Reading small urlencoded form bodies (the login forms) with a size limit. */
import type { EdgeRequest } from "./context.ts";

/** Largest form body read, in bytes; the login forms need well under 1 KiB. */
export const MAX_FORM_BYTES = 16 * 1024;

/** Reads an application/x-www-form-urlencoded body; anything larger than MAX_FORM_BYTES or of another type reads as empty. */
export async function readForm(request: EdgeRequest): Promise<URLSearchParams> {
  const type = String(request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return new URLSearchParams();
    chunks.push(chunk);
  }
  if (type !== "application/x-www-form-urlencoded") return new URLSearchParams();
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
