#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner (TypeScript through tsx) and ends with its summary.
// Arguments narrow the run: `npm test -- test/pki` runs the files under that folder.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function collect(path) {
  if (statSync(path).isFile()) return path.endsWith(".test.ts") ? [path] : [];
  return readdirSync(path).sort().flatMap((entry) => collect(join(path, entry)));
}

const roots = process.argv.slice(2).filter((arg) => !arg.startsWith("-"));
const flags = process.argv.slice(2).filter((arg) => arg.startsWith("-"));
const files = (roots.length ? roots : ["test"]).flatMap(collect);
if (files.length === 0) {
  console.error(`No test files found under ${roots.join(", ") || "test"}.`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...flags, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
