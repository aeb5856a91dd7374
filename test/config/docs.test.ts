import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { renderConfigDocs } from "../../scripts/config-docs.ts";

test("config reference matches the schema", () => {
  const { schemaJson, markdown } = renderConfigDocs();
  assert.equal(readFileSync("docs/config.schema.json", "utf8"), schemaJson, 'docs/config.schema.json is stale: run "npm run docs:config"');
  assert.equal(readFileSync("docs/config.md", "utf8"), markdown, 'docs/config.md is stale: run "npm run docs:config"');
});

test("config reference lists nested defaults", () => {
  const { markdown } = renderConfigDocs();
  assert.match(markdown, /\| `local\.edge\.port` \| integer \| `8443` \|/);
  assert.match(markdown, /\| `alb\.mutualAuthentication\.mode` \| "off" \\\| "passthrough" \\\| "verify" \| `"verify"` \|/);
});
