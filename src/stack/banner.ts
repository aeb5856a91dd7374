/** The start-up banner of `edgelock up`: URLs, the file to trust, where PINs arrive, and the three checks. */
import { relative } from "node:path";
import type { RunningStack } from "./stack.ts";

function shown(path: string): string {
  const relativePath = relative(process.cwd(), path);
  return relativePath.startsWith("..") ? path : relativePath;
}

/** Names the kinds of the configured targets: "function", "HTTP target" or both. */
function targetKinds(stack: RunningStack): string {
  const kinds = new Set(Object.values(stack.config.targets).map((target) => (target.type === "lambda" ? "function" : "HTTP target")));
  return [...kinds].join(" / ");
}

/** Returns the banner lines for a running stack. */
export function bannerLines(stack: RunningStack, created: string[]): string[] {
  const { prepared, urls } = stack;
  const ca = shown(prepared.localCa.paths.caCert);
  const cert = shown(prepared.pki.paths.certificate(prepared.originPull.info.name));
  const key = shown(prepared.pki.paths.key(prepared.originPull.info.name));
  const lines = [""];
  if (created.length > 0) lines.push(`Created: ${created.join(", ")}.`, "");
  lines.push(
    `edgelock is running: edge (Cloudflare Access) -> mTLS origin pull -> listener (ALB, mTLS verify) -> ${targetKinds(stack)}`,
    "",
    `  App (log in here):    ${urls.app}/`,
    `  Team domain:          ${urls.team}/cdn-cgi/access/certs`,
    `  Listener (origin):    ${urls.listener}/`,
    `  Trust this CA:        ${ca}`,
    `  PINs arrive in:       ${shown(prepared.layout.outboxDir)}/ (one .eml file per PIN)`,
    `  Logs:                 ${shown(prepared.layout.logDir)}/ (connection.log, access.log, edgelock.log)`,
    "",
    "The reference checks:",
    "  1. Listener without a client certificate: no HTTP response, the connection is reset",
    `     curl -v --cacert ${ca} ${urls.listener}/`,
    "  2. Listener with the origin-pull client certificate: the target answers (401 until a valid Access token comes along)",
    `     curl --cacert ${ca} --cert ${cert} --key ${key} ${urls.listener}/`,
    "  3. App through the edge: 302 to the Access login page",
    `     curl -i --cacert ${ca} ${urls.app}/`,
    "",
    `All checks at once: npx edgelock check    Reload the trust store after "edgelock pki crl": npx edgelock reload`,
    "Press Ctrl-C to stop.",
    "",
  );
  return lines;
}
