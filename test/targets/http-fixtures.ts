/**
 * Shared setup for the HTTP target tests: a PKI made in the test, plain Node HTTP backends on 127.0.0.1 that record
 * what they receive, HTTP targets in front of them, a listener in verify mode, and an mTLS client.
 */
import "reflect-metadata";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { Client } from "undici";
import { createListener, createTrustStore, type Listener } from "../../src/alb/index.ts";
import { albSchema } from "../../src/config/schema/alb.ts";
import { localAlbSchema } from "../../src/config/schema/local.ts";
import { createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { createRecordingLogger, type LogRecord, type Logger } from "../../src/shared/logger.ts";
import { createHttpTarget, type HttpTarget, type HttpTargetOptions, type Target } from "../../src/targets/index.ts";

export const HOST = "alb.localhost";

/** Certificates for one test file: the listener's server certificate and an origin-pull client certificate. */
export interface Pki {
  serverCa: IssuedCertificate;
  server: IssuedCertificate;
  clientCa: IssuedCertificate;
  client: IssuedCertificate;
}

export async function createPki(): Promise<Pki> {
  const serverCa = await createRootCa({ commonName: "http target test server CA" });
  const server = await issueLeaf(serverCa, { profile: "server", subject: { commonName: HOST }, dnsNames: [HOST], ipAddresses: ["127.0.0.1"] });
  const clientCa = await createRootCa({ commonName: "http target test client CA", organization: "edgelock tests" });
  const client = await issueLeaf(clientCa, { profile: "client", subject: { commonName: "origin pull", organization: "edgelock tests", country: "JP" } });
  return { serverCa, server, clientCa, client };
}

/** One request as a backend received it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
  body: string;
}

export interface Backend {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Requests to the health path, kept apart from `received`. */
  healthChecks: ReceivedRequest[];
  /** Status the health path returns; tests change it. */
  healthStatus: number;
}

export type BackendHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** Starts a plain HTTP backend on 127.0.0.1:0: /health responds with `healthStatus`, every other path goes to `handler`. */
export async function startBackend(t: TestContext, handler: BackendHandler = defaultHandler): Promise<Backend> {
  const backend: Backend = { url: "", port: 0, received: [], healthChecks: [], healthStatus: 200 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const record = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, rawHeaders: request.rawHeaders, body };
      if (request.url === "/health") {
        backend.healthChecks.push(record);
        response.writeHead(backend.healthStatus).end();
        return;
      }
      backend.received.push(record);
      handler(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.url = `http://127.0.0.1:${backend.port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return backend;
}

function defaultHandler(request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/plain" }).end(`backend saw ${request.method} ${request.url}`);
}

/** Health-check settings for tests: checks run only through checkNow() unless the interval is overridden. */
export const MANUAL_CHECKS = { path: "/health", intervalSeconds: 3600, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2, matcher: "200" };

/** Creates and starts an HTTP target; it is stopped after the test. */
export async function startTarget(t: TestContext, options: Partial<HttpTargetOptions> & { url: string; logger: Logger }): Promise<HttpTarget> {
  const target = createHttpTarget({ name: "app", healthCheck: MANUAL_CHECKS, idleTimeoutSeconds: 5, ...options });
  t.after(() => target.stop());
  await target.start();
  return target;
}

export interface ListenerSetup {
  listener: Listener;
  logDir: string;
}

/** Starts a verify-mode listener on 127.0.0.1:0 that trusts the client CA; closed after the test. */
export async function startListener(t: TestContext, pki: Pki, targets: Map<string, Target>, alb: Record<string, unknown>, logger: Logger): Promise<ListenerSetup> {
  const logDir = mkdtempSync(join(tmpdir(), "edgelock-http-target-"));
  t.after(() => rmSync(logDir, { recursive: true, force: true }));
  const listener = await createListener({
    alb: albSchema.parse({ mutualAuthentication: { mode: "verify" }, ...alb }),
    local: localAlbSchema.parse({}),
    serverCertificate: { certPem: pki.server.certificatePem, keyPem: pki.server.privateKeyPem },
    trustStore: createTrustStore({ bundle: pki.clientCa.certificatePem }),
    targets,
    logger,
    logDir,
  });
  t.after(() => listener.close());
  return { listener, logDir };
}

/** A response as the mTLS client saw it. */
export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Creates an mTLS client of the listener that presents the client certificate; closed after the test. */
export function createMtlsClient(t: TestContext, pki: Pki, port: number): (path: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<ClientResponse> {
  const client = new Client(`https://127.0.0.1:${port}`, {
    connect: { ca: pki.serverCa.certificatePem, cert: pki.client.certificatePem, key: pki.client.privateKeyPem, servername: HOST },
  });
  t.after(() => client.close());
  return async (path, init = {}) => {
    const response = await client.request({ method: init.method ?? "GET", path, headers: { host: `${HOST}:${port}`, ...init.headers }, body: init.body });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  };
}

export { createRecordingLogger, type LogRecord };
