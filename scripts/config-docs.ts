/**
 * Writes docs/config.schema.json (for editors, referenced by "$schema") and docs/config.md (every key with its
 * default and description) from the configuration schema. Run with `npm run docs:config`.
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { configSchema } from "../src/config/index.ts";

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
};

const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
writeFileSync("docs/config.schema.json", `${JSON.stringify(schema, null, 2)}\n`);

const rows: string[] = [];
function typeOf(node: JsonSchema): string {
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(" \\| ");
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.anyOf ?? node.oneOf) return "one of the forms below";
  return Array.isArray(node.type) ? node.type.join(" \\| ") : (node.type ?? "any");
}

function walk(node: JsonSchema, path: string): void {
  const shownDefault = node.default === undefined || (typeof node.default === "object" && node.default !== null && !Array.isArray(node.default)) ? "" : JSON.stringify(node.default);
  if (path !== "") rows.push(`| \`${path}\` | ${typeOf(node)} | ${shownDefault ? `\`${shownDefault}\`` : ""} | ${(node.description ?? "").replace(/\|/g, "\\|")} |`);
  for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, path === "" ? key : `${path}.${key}`);
  if (node.items) walk(node.items, `${path}[]`);
  if (typeof node.additionalProperties === "object") walk(node.additionalProperties, `${path}.<name>`);
  for (const [index, variant] of (node.anyOf ?? node.oneOf ?? []).entries()) {
    if (variant.properties) walk(variant, `${path} (form ${index + 1})`);
  }
}
walk(schema, "");

const text = [
  "# Configuration reference",
  "",
  "`edgelock.config.json` is read by the local stack (`npm start`) and by the Pulumi program (`npm run deploy`).",
  "Unknown keys are rejected, and every problem is reported with the path to the bad field. `edgelock config validate`",
  "checks a file; `docs/config.schema.json` gives editors completion. This page is generated from the schema by",
  "`npm run docs:config`.",
  "",
  "| Key | Type | Default | Description |",
  "|---|---|---|---|",
  ...rows,
  "",
];
writeFileSync("docs/config.md", text.join("\n"));
console.log(`wrote docs/config.md (${rows.length} keys) and docs/config.schema.json`);
