/**
 * The outbox: instead of mailing a PIN, the local edge writes the message as an RFC 5322 `.eml` file to
 * `<stateDir>/outbox/`, which any mail client opens. Files are written atomically with mode 0600 because they
 * contain the PIN.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writePrivateFile } from "../../shared/fs-atomic.ts";

export interface OutgoingMessage {
  from: string;
  to: string;
  subject: string;
  /** Body lines without line endings. */
  body: string[];
  date: Date;
  /** Domain part of the Message-ID. */
  messageIdDomain: string;
}

/** Encodes a header value as an RFC 2047 encoded word when it is not plain ASCII. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/** Formats a date as RFC 5322 requires, such as "Fri, 04 Dec 2026 20:25:00 +0000". */
export function formatMailDate(date: Date): string {
  return date.toUTCString().replace("GMT", "+0000");
}

/** Builds the message text with CRLF line endings; the body is UTF-8 sent as 8bit (RFC 6152). */
export function formatMessage(message: OutgoingMessage): string {
  const messageId = `<${randomBytes(12).toString("hex")}@${message.messageIdDomain}>`;
  const lines = [
    `From: ${message.from}`,
    `To: ${message.to}`,
    `Subject: ${encodeHeader(message.subject)}`,
    `Date: ${formatMailDate(message.date)}`,
    `Message-ID: ${messageId}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    ...message.body,
    "",
  ];
  return lines.join("\r\n");
}

/** Writes a message to `<stateDir>/outbox/` and returns the file's path. */
export function writeToOutbox(stateDir: string, message: OutgoingMessage): string {
  const stamp = message.date.toISOString().replace(/[:.]/g, "-");
  const path = join(stateDir, "outbox", `${stamp}-${randomBytes(4).toString("hex")}.eml`);
  writePrivateFile(path, formatMessage(message));
  return path;
}
