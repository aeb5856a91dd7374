/**
 * Runs one micro-benchmark in its own process and prints its result as JSON, so the bench command can pin it to one
 * core: `taskset -c 0 node --import tsx bench/micro-worker.ts tokens '{"durationMs":3000,"concurrency":16}'`.
 */
import { benchPolicyEvaluation, benchTokenVerification } from "./micro.ts";

const [name, json = "{}"] = process.argv.slice(2);
const options = JSON.parse(json) as Record<string, unknown>;
let result: unknown;
if (name === "tokens") {
  result = await benchTokenVerification({ durationMs: Number(options.durationMs ?? 3000), concurrency: Number(options.concurrency ?? 16) });
} else if (name === "policy") {
  result = benchPolicyEvaluation({ sizes: (options.sizes as number[] | undefined) ?? [10, 10_000], iterations: Number(options.iterations ?? 200_000), batches: Number(options.batches ?? 7) });
} else {
  process.stderr.write(`micro-worker: unknown benchmark "${name}"; use "tokens" or "policy"\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
