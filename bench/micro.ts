/**
 * In-process micro-benchmarks: Access token verification with a cached JWKS, policy evaluation against long email
 * lists, and the Lambda function bundle (size, module init in a fresh process, warm invocation).
 * Each returns plain numbers; bench/report.ts turns them into the benchmark page.
 */
import "reflect-metadata";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { bundleHandlerSource } from "../src/infra/aws/bundle.ts";
import { compileApplications, createAccessVerifier, evaluatePolicies, issueAppToken, openSigningKeys, type AccessVerifier, type CompiledApplication, type FetchLike } from "../src/access/index.ts";
import { parseConfig } from "../src/config/index.ts";
import { createRootCa, issueLeaf } from "../src/pki/index.ts";
import { PROJECT_ROOT } from "./anchor.ts";

const execFileAsync = promisify(execFile);

/** Returns the value at quantile `q` (0..1) of `values`, nearest rank; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface TokenBenchResult {
  /** Full verifications per wall-clock second: every token is new to the verifier, so none is served from its cache. */
  perSecond: number;
  /** Process CPU time per full verification, in microseconds (main thread, thread pool and GC together). */
  cpuMicrosPerVerification: number;
  verifications: number;
  /** Distinct tokens verified by each fresh verifier. */
  distinctTokens: number;
  concurrency: number;
  /** JWKS fetches per verifier: 1 means every verification used the cached key. */
  jwksFetchesPerVerifier: number;
  /** Verifications per second of one token presented again and again, as a session does. */
  repeatedPerSecond: number;
}

/**
 * Verifies RS256 app tokens for `durationMs` with `concurrency` verifications in flight, twice: distinct tokens, each
 * verified once by a fresh verifier (the full check), then one token repeated (what a session costs once the
 * verifier has accepted its token). Run it pinned to one core (taskset) with UV_THREADPOOL_SIZE=1 for a one-core
 * figure, because WebCrypto verifies on the thread pool.
 */
export async function benchTokenVerification(options: { durationMs: number; concurrency: number; distinctTokens?: number }): Promise<TokenBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-bench-tokens-"));
  try {
    const keys = await openSigningKeys(dir);
    const teamDomain = "bench.cloudflareaccess.com";
    const aud = "a".repeat(64);
    const distinctTokens = options.distinctTokens ?? 2000;
    // Each token has its own identity_nonce, so no two are equal.
    const tokens = await Promise.all(
      Array.from({ length: distinctTokens }, (_, index) => issueAppToken(keys, { aud, email: `user${index}@example.com`, teamDomain, sessionSeconds: 3600, country: "JP" })),
    );
    const jwks = JSON.stringify(keys.jwks());
    // The team domain's /cdn-cgi/access/certs, served in-process: each verifier fetches it once.
    const fetch: FetchLike = async () => ({ status: 200, text: async () => jwks });
    const newVerifier = () => createAccessVerifier({ teamDomain, audience: aud, fetch });

    // NOTE: each verifier verifies one token alone before the concurrent ones, because a cold JwksCache rejects
    // lookups made while its first fetch is in flight with ERR_TOKEN_UNKNOWN_KID.
    const primer = await issueAppToken(keys, { aud, email: "primer@example.com", teamDomain, sessionSeconds: 3600, country: "JP" });
    const run = async (verifyPass: (verifier: AccessVerifier, deadline: number) => Promise<number>, reuse: AccessVerifier | undefined) => {
      let verifications = 0;
      let fetchesPerVerifier = 0;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const deadline = started + options.durationMs;
      while (performance.now() < deadline) {
        const verifier = reuse ?? newVerifier();
        if (reuse === undefined) await verifier.verify(primer);
        verifications += await verifyPass(verifier, deadline);
        fetchesPerVerifier = Math.max(fetchesPerVerifier, verifier.jwksFetchCount());
      }
      const cpu = process.cpuUsage(cpuBefore);
      return { verifications, fetchesPerVerifier, perSecond: (verifications * 1000) / (performance.now() - started), cpuMicros: (cpu.user + cpu.system) / verifications };
    };
    /** Verifies `list` with `options.concurrency` in flight until the list or the time is used up; returns the count. */
    const verifyAll = async (verifier: AccessVerifier, list: readonly string[], deadline: number) => {
      let next = 0;
      let done = 0;
      const worker = async () => {
        while (next < list.length && performance.now() < deadline) {
          await verifier.verify(list[next++] as string);
          done++;
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      return done;
    };

    // Full verifications: a fresh verifier for every pass over the distinct tokens, so its cache never has one.
    const full = await run((verifier, deadline) => verifyAll(verifier, tokens, deadline), undefined);

    // One token again and again: after the first, the verifier returns it from its cache of accepted tokens.
    const repeatedVerifier = newVerifier();
    await repeatedVerifier.verify(tokens[0] as string);
    const sameToken = Array.from({ length: 10_000 }, () => tokens[0] as string);
    const repeated = await run((verifier, deadline) => verifyAll(verifier, sameToken, deadline), repeatedVerifier);

    return {
      perSecond: full.perSecond,
      cpuMicrosPerVerification: full.cpuMicros,
      verifications: full.verifications,
      distinctTokens,
      concurrency: options.concurrency,
      jwksFetchesPerVerifier: full.fetchesPerVerifier,
      repeatedPerSecond: repeated.perSecond,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PolicyBenchRow {
  emails: number;
  /** Median nanoseconds per evaluation, for an allowed address (the last one of the list), a denied one, and the request phase before login. */
  allowedNs: number;
  deniedNs: number;
  requestNs: number;
}

function applicationWithEmails(count: number): CompiledApplication {
  const include = Array.from({ length: count }, (_, index) => ({ email: `user${index}@example.com` }));
  const config = parseConfig({
    access: { applications: [{ name: "app", policies: [{ name: "allow-list", decision: "allow", include }] }] },
  });
  return compileApplications(config)[0] as CompiledApplication;
}

function nanosPerCall(call: () => unknown, iterations: number, batches: number): number {
  // One untimed batch first, so the optimizing compiler has run before the first sample.
  for (let index = 0; index < iterations; index++) call();
  const samples: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const started = process.hrtime.bigint();
    for (let index = 0; index < iterations; index++) call();
    samples.push(Number(process.hrtime.bigint() - started) / iterations);
  }
  return quantile(samples, 0.5);
}

/** Times evaluatePolicies for applications whose Allow policy lists each of `sizes` email addresses. */
export function benchPolicyEvaluation(options: { sizes: readonly number[]; iterations: number; batches: number }): PolicyBenchRow[] {
  return options.sizes.map((emails) => {
    const app = applicationWithEmails(emails);
    const base = { ip: "203.0.113.7", country: "JP" };
    const allowed = { ...base, email: `user${emails - 1}@example.com` };
    const denied = { ...base, email: "someone@example.org" };
    if (evaluatePolicies(app, allowed, "identity").decision !== "allow") throw new Error(`policy bench: user${emails - 1}@example.com should be allowed`);
    if (evaluatePolicies(app, denied, "identity").decision !== "deny") throw new Error("policy bench: someone@example.org should be denied");
    return {
      emails,
      allowedNs: nanosPerCall(() => evaluatePolicies(app, allowed, "identity"), options.iterations, options.batches),
      deniedNs: nanosPerCall(() => evaluatePolicies(app, denied, "identity"), options.iterations, options.batches),
      requestNs: nanosPerCall(() => evaluatePolicies(app, base, "request"), options.iterations, options.batches),
    };
  });
}

export interface FunctionBenchResult {
  bundleBytes: number;
  /** Median over fresh processes of the time `import()` of the bundle takes, in milliseconds. */
  initMs: number;
  initSamplesMs: number[];
  /** First invocation of a fresh process: builds the verifier and fetches the JWKS over HTTPS. */
  firstInvocationMs: number;
  /** Warm invocations with a valid token (the deployed default, REQUIRE_ACCESS_TOKEN unset). */
  warmP50Ms: number;
  warmP99Ms: number;
  /** Warm invocations with REQUIRE_ACCESS_TOKEN=false. */
  warmNoTokenP50Ms: number;
  invocations: number;
}

/** Bundles src/function/index.ts exactly as the Pulumi program does for deployment; returns the ES module text. */
export async function bundleFunction(): Promise<string> {
  return bundleHandlerSource(join(PROJECT_ROOT, "src", "function", "index.ts"));
}

/** The probe a fresh process runs: imports the bundle, invokes it once cold, then `count` times warm; prints JSON. */
const PROBE = `
const started = performance.now();
const { handler } = await import(process.argv[2]);
const initMs = performance.now() - started;
const count = Number(process.argv[3]);
const event = JSON.parse(process.env.PROBE_EVENT);
const first = performance.now();
const result = await handler(event);
const firstMs = performance.now() - first;
if (result.statusCode !== 200) throw new Error("probe: the function returned status " + result.statusCode + ": " + result.body);
const times = [];
for (let i = 0; i < count; i++) { const t = performance.now(); await handler(event); times.push(performance.now() - t); }
process.stdout.write(JSON.stringify({ initMs, firstMs, times }));
`;

interface ProbeOutput {
  initMs: number;
  firstMs: number;
  times: number[];
}

/** Serves a JWKS over HTTPS on 127.0.0.1 with a certificate from a throw-away CA, as the team domain would. */
async function startJwksServer(jwks: string, dir: string): Promise<{ port: number; caFile: string; close: () => Promise<void> }> {
  const ca = await createRootCa({ commonName: "edgelock bench JWKS CA" });
  const server = await issueLeaf(ca, { profile: "server", subject: { commonName: "127.0.0.1" }, ipAddresses: ["127.0.0.1"] });
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, ca.certificatePem);
  const https = createServer({ cert: server.certificatePem, key: server.privateKeyPem }, (request, response) => {
    if (request.url !== "/cdn-cgi/access/certs") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(jwks);
  });
  await new Promise<void>((done) => https.listen(0, "127.0.0.1", done));
  return {
    port: (https.address() as AddressInfo).port,
    caFile,
    close: () => new Promise((done) => https.close(() => done())),
  };
}

/** Builds the bundle, then runs `processes` fresh Node processes that import and invoke it. */
export async function benchFunctionBundle(options: { nodePath: string; processes: number; invocations: number }): Promise<FunctionBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "edgelock-bench-function-"));
  try {
    const bundle = await bundleFunction();
    const bundleFile = join(dir, "index.mjs");
    writeFileSync(bundleFile, bundle);
    const probeFile = join(dir, "probe.mjs");
    writeFileSync(probeFile, PROBE);

    const keys = await openSigningKeys(join(dir, "keys"));
    const jwks = await startJwksServer(JSON.stringify(keys.jwks()), dir);
    try {
      const teamDomain = `127.0.0.1:${jwks.port}`;
      const aud = "b".repeat(64);
      const token = await issueAppToken(keys, { aud, email: "user@example.com", teamDomain, sessionSeconds: 3600, country: "JP" });
      const event = {
        requestContext: { elb: { targetGroupArn: "arn:aws:elasticloadbalancing:local:000000000000:targetgroup/bench/0123456789abcdef" } },
        httpMethod: "GET",
        path: "/echo",
        queryStringParameters: {},
        headers: { host: "app.example.com", "cf-access-jwt-assertion": token, "x-amzn-mtls-clientcert-serial-number": "0A1B2C", "user-agent": "bench" },
        body: "",
        isBase64Encoded: false,
      };
      const probe = async (env: Record<string, string>): Promise<ProbeOutput> => {
        const { stdout } = await execFileAsync(options.nodePath, [probeFile, bundleFile, String(options.invocations)], {
          env: { PATH: process.env.PATH ?? "", PROBE_EVENT: JSON.stringify(event), ...env },
          maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(stdout) as ProbeOutput;
      };

      const withToken: ProbeOutput[] = [];
      for (let index = 0; index < options.processes; index++) {
        withToken.push(await probe({ TEAM_DOMAIN: teamDomain, ACCESS_AUD: aud, NODE_EXTRA_CA_CERTS: jwks.caFile }));
      }
      const withoutToken = await probe({ REQUIRE_ACCESS_TOKEN: "false" });
      const warm = withToken.flatMap((run) => run.times);
      return {
        bundleBytes: Buffer.byteLength(bundle),
        initMs: quantile(withToken.map((run) => run.initMs), 0.5),
        initSamplesMs: withToken.map((run) => run.initMs),
        firstInvocationMs: quantile(withToken.map((run) => run.firstMs), 0.5),
        warmP50Ms: quantile(warm, 0.5),
        warmP99Ms: quantile(warm, 0.99),
        warmNoTokenP50Ms: quantile(withoutToken.times, 0.5),
        invocations: warm.length,
      };
    } finally {
      await jwks.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
