/**
 * Runs a local stack in its own process, so a test can count the TCP connections `edgelock check` opens without
 * the stack's own connections (edge to listener, echo function to JWKS) mixing in. Takes the configuration file
 * as its argument, starts on ports 0, creates the service token "ci", prints one JSON line with the URLs and the
 * token, and stops when its standard input closes.
 */
import { openServiceTokenStore } from "../../src/access/index.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createSilentLogger } from "../../src/shared/logger.ts";
import { startStack } from "../../src/stack/stack.ts";

const configFile = process.argv[2];
if (configFile === undefined) throw new Error("usage: stack-process.mts CONFIG_FILE");

const stack = await startStack(loadConfig(configFile), { logger: createSilentLogger(), edgePort: 0, listenerPort: 0 });
const token = openServiceTokenStore(stack.prepared.layout.serviceTokensFile).create("ci", { durationSeconds: 3600 });
process.stdout.write(`${JSON.stringify({ urls: stack.urls, clientId: token.clientId, clientSecret: token.clientSecret })}\n`);

process.stdin.resume();
process.stdin.on("end", () => {
  void stack.close().then(() => process.exit(0));
});
