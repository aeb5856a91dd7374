/**
 * `edgelock service-token`: creates, lists and revokes the local edge's service tokens (CF-Access-Client-Id and
 * CF-Access-Client-Secret). The secret is printed once, at creation, because the store keeps only a hash of it.
 */
import { join } from "node:path";
import { openServiceTokenStore } from "../../access/index.ts";
import { durationSeconds } from "../../config/index.ts";
import { parseFlags, UsageError, type Command } from "../command.ts";

/** Default state folder, as `local.stateDir` defaults in the configuration. */
const DEFAULT_STATE_DIR = ".edgelock";
const NAME = /^[a-z0-9][a-z0-9-]*$/;
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** Returns the file of the service-token store inside a state folder; the edge opens the same file. */
export function serviceTokenFile(stateDir: string): string {
  return join(stateDir, "access", "service-tokens.json");
}

const help = [
  "Usage: edgelock service-token create NAME [--duration 8760h] [--state-dir DIR] [--json]",
  "       edgelock service-token list [--state-dir DIR] [--json]",
  "       edgelock service-token revoke NAME [--state-dir DIR]",
  "",
  "  create NAME   creates a token and prints its Client ID and Client Secret; the secret is shown only this once",
  "  list          lists the tokens: name, Client ID and expiry (never secrets)",
  "  revoke NAME   deletes the token; requests with it are rejected from then on",
  "",
  "  --duration D      lifetime as a Go duration such as \"8760h\" (one year, the default) or \"720h\"",
  `  --state-dir DIR   state folder of the local stack (default ${DEFAULT_STATE_DIR}); the store is <DIR>/access/service-tokens.json`,
  "  --json            prints JSON instead of text",
].join("\n");

function requireName(positionals: string[], action: string): string {
  const name = positionals[1];
  if (name === undefined) throw new UsageError(`"service-token ${action}" needs a token NAME, such as "edgelock service-token ${action} ci"`);
  if (!NAME.test(name)) throw new UsageError(`token name "${name}" must use lowercase letters, digits and "-", starting with a letter or digit`);
  return name;
}

export const serviceTokenCommand: Command = {
  summary: "create, list or revoke service tokens for the local edge",
  help,
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { "state-dir": { type: "string" }, json: { type: "boolean" }, duration: { type: "string" } },
      "service-token",
    );
    const action = positionals[0];
    if (action === undefined) throw new UsageError('missing action; use "create NAME", "list" or "revoke NAME"');
    const store = openServiceTokenStore(serviceTokenFile(values["state-dir"] ?? DEFAULT_STATE_DIR));

    if (action === "create") {
      const name = requireName(positionals, action);
      const duration = values.duration ?? "8760h";
      if (!GO_DURATION.test(duration) || durationSeconds(duration) <= 0) {
        throw new UsageError(`--duration "${duration}" must be a positive Go duration with units ns, us, ms, s, m or h, such as "8760h" ("365d" is not accepted)`);
      }
      const created = store.create(name, { durationSeconds: durationSeconds(duration) });
      if (values.json === true) {
        io.out(JSON.stringify({ name: created.name, clientId: created.clientId, clientSecret: created.clientSecret, expiresAt: created.expiresAt.toISOString() }, null, 2));
        return 0;
      }
      io.out(`Created service token "${created.name}". Copy the secret now: it is not shown again.`);
      io.out(`  CF-Access-Client-Id:     ${created.clientId}`);
      io.out(`  CF-Access-Client-Secret: ${created.clientSecret}`);
      io.out(`  Expires:                 ${created.expiresAt.toISOString()}`);
      io.out("");
      io.out(`Access accepts it only where a policy names it: add "serviceTokens": [{ "name": "${created.name}" }] under "access"`);
      io.out(`in edgelock.config.json and a policy { "decision": "non_identity", "include": [{ "serviceToken": "${created.name}" }] }, then restart.`);
      return 0;
    }

    if (action === "list") {
      const tokens = store.list();
      if (values.json === true) {
        io.out(JSON.stringify(tokens.map((token) => ({ name: token.name, clientId: token.clientId, expiresAt: token.expiresAt.toISOString(), expired: token.expired })), null, 2));
        return 0;
      }
      if (tokens.length === 0) {
        io.out('No service tokens. Create one with "edgelock service-token create NAME".');
        return 0;
      }
      for (const token of tokens) io.out(`${token.name.padEnd(20)} ${token.clientId}  ${token.expired ? "expired" : "expires"} ${token.expiresAt.toISOString()}`);
      return 0;
    }

    if (action === "revoke") {
      const name = requireName(positionals, action);
      const removed = store.revoke(name);
      if (!removed) throw new UsageError(`no service token named "${name}"; run "edgelock service-token list" to see the names`);
      io.out(`Revoked service token "${name}".`);
      return 0;
    }

    throw new UsageError(`unknown action "${action}"; use "create", "list" or "revoke"`);
  },
};
