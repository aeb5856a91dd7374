/**
 * Writes docs/config.schema.json (for editors, referenced by "$schema") and docs/config.md (every key with its
 * default and description) from the configuration schema. Run with `npm run docs:config`; a test fails when the
 * committed files differ from what this renders.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { configSchema } from "../src/config/index.ts";

interface JsonSchema {
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
}

function typeOf(node: JsonSchema): string {
  if (node.enum) return node.enum.map((value) => JSON.stringify(value)).join(" \\| ");
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.anyOf ?? node.oneOf) return "one of the forms below";
  return Array.isArray(node.type) ? node.type.join(" \\| ") : (node.type ?? "any");
}

function defaultOf(node: JsonSchema): string {
  const value = node.default;
  if (value === undefined || (typeof value === "object" && value !== null && !Array.isArray(value))) return "";
  return `\`${JSON.stringify(value)}\``;
}

function collectRows(node: JsonSchema, path: string, rows: string[]): void {
  if (path !== "") rows.push(`| \`${path}\` | ${typeOf(node)} | ${defaultOf(node)} | ${(node.description ?? "").replace(/\|/g, "\\|")} |`);
  for (const [key, child] of Object.entries(node.properties ?? {})) collectRows(child, path === "" ? key : `${path}.${key}`, rows);
  if (node.items) collectRows(node.items, `${path}[]`, rows);
  if (typeof node.additionalProperties === "object") collectRows(node.additionalProperties, `${path}.<name>`, rows);
  for (const [index, variant] of (node.anyOf ?? node.oneOf ?? []).entries()) {
    if (variant.properties) collectRows(variant, `${path} (form ${index + 1})`, rows);
  }
}

/** Renders the JSON schema and the Markdown reference of the configuration. */
export function renderConfigDocs(): { schemaJson: string; markdown: string } {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const rows: string[] = [];
  collectRows(schema, "", rows);

  const markdown = [
    "# Configuration reference",
    "",
    "`edgelock.config.json` is read by the local stack (`npm start`) and by the Pulumi program (`npm run deploy`).",
    "Unknown keys are rejected, and every problem is reported with the path to the bad field. `edgelock config validate`",
    "checks a file, and `docs/config.schema.json` gives editors completion. This page is generated from the schema by",
    "`npm run docs:config`.",
    "",
    "| Key | Type | Default | Description |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
  return { schemaJson: `${JSON.stringify(schema, null, 2)}\n`, markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { schemaJson, markdown } = renderConfigDocs();
  writeFileSync("docs/config.schema.json", schemaJson);
  writeFileSync("docs/config.md", markdown);
  console.log("wrote docs/config.md and docs/config.schema.json");
}
