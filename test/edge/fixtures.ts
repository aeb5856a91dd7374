/**
 * Fixtures for the edge tests: a CA with server and client certificates made by our PKI, a fake origin that
 * requires the client certificate, an edge on 127.0.0.1:0, and an HTTPS client with a cookie jar per host.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { Agent, buildConnector, request } from "undici";
import { compileApplications, openServiceTokenStore, openSigningKeys, type SigningKeyStore } from "../../src/access/index.ts";
import { parseConfig, type EdgelockConfig, type EdgelockConfigInput } from "../../src/config/index.ts";
import { createEdge, type Edge, type EdgeOptions } from "../../src/edge/index.ts";
import { createRootCa, issueLeaf, type IssuedCertificate } from "../../src/pki/index.ts";
import { createRecordingLogger, type LogRecord } from "../../src/shared/logger.ts";

export interface Pki {
  ca: IssuedCertificate;
  /** Server certificate of the edge: app.localhost and team.localhost. */
  edgeServer: IssuedCertificate;
  /** Server certificate of the origin: alb.localhost. */
  originServer: IssuedCertificate;
  /** The Authenticated Origin Pulls client certificate. */
  originPullClient: IssuedCertificate;
  /** A second CA, which neither the edge nor the origin trusts by default. */
  otherCa: IssuedCertificate;
}

/** Makes the certificates every edge test needs; ECDSA P-256 keeps it fast. */
export async function createPki(): Promise<Pki> {
  const ca = await createRootCa({ commonName: "edgelock test root CA" });
  const otherCa = await createRootCa({ commonName: "unrelated CA" });
  return {
    ca,
    otherCa,
    edgeServer: await issueLeaf(ca, { profile: "server", subject: { commonName: "app.localhost" }, dnsNames: ["app.localhost", "team.localhost", "other.localhost"] }),
    originServer: await issueLeaf(ca, { profile: "server", subject: { commonName: "alb.localhost" }, dnsNames: ["alb.localhost"] }),
    originPullClient: await issueLeaf(ca, { profile: "client", subject: { commonName: "app.localhost", organization: "edgelock origin pull" } }),
  };
}

/** Creates a temporary folder that is removed when the test ends. */
export function temporaryFolder(t: TestContext | { after(fn: () => void): void }, prefix = "edgelock-edge-"): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** One request as the fake origin received it. */
export interface OriginHit {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Subject CN of the client certificate the edge presented. */
  clientCertificate: string | undefined;
}

export interface FakeOrigin {
  port: number;
  url: string;
  hits: OriginHit[];
}

/**
 * Starts an HTTPS origin on 127.0.0.1:0 that requires a client certificate from `clientCa` and responds 200 with
 * the request it received as JSON, or runs `handler` instead.
 */
export async function startOrigin(
  t: { after(fn: () => Promise<void> | void): void },
  options: { server: IssuedCertificate; clientCa: IssuedCertificate; handler?: (request: IncomingMessage, response: ServerResponse) => void },
): Promise<FakeOrigin> {
  const hits: OriginHit[] = [];
  const server: HttpsServer = createHttpsServer(
    { cert: options.server.certificatePem, key: options.server.privateKeyPem, ca: options.clientCa.certificatePem, requestCert: true, rejectUnauthorized: true },
    (incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const peer = (incoming.socket as import("node:tls").TLSSocket).getPeerCertificate();
        hits.push({ method: incoming.method ?? "", url: incoming.url ?? "", headers: incoming.headers, body: Buffer.concat(chunks).toString("utf8"), clientCertificate: peer?.subject?.CN as string | undefined });
        if (options.handler !== undefined) {
          options.handler(incoming, response);
          return;
        }
        response.writeHead(200, { "content-type": "application/json", "x-accel-redirect": "/internal", server: "origin-server", "set-cookie": "origin=1; Path=/" });
        response.end(JSON.stringify({ method: incoming.method, url: incoming.url, headers: incoming.headers }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const port = (server.address() as AddressInfo).port;
  return { port, url: `https://alb.localhost:${port}`, hits };
}

/** Builds a configuration with one application on app.example.com (mapped to app.localhost) and the given policies. */
export function testConfig(policies: unknown[], extra: { serviceTokens?: string[]; application?: Record<string, unknown> } = {}): EdgelockConfig {
  const input = {
    hosts: { app: "app.example.com", origin: "origin.example.com" },
    access: {
      teamName: "edgelock",
      applications: [{ name: "app", sessionDuration: "24h", policies, ...extra.application }],
      serviceTokens: (extra.serviceTokens ?? []).map((name) => ({ name })),
    },
  } as EdgelockConfigInput;
  return parseConfig(input);
}

/** Allow @example.com, plus a service token "ci" through Service Auth. */
export const DEFAULT_POLICIES = [
  { name: "ci", decision: "non_identity", include: [{ serviceToken: "ci" }] },
  { name: "example-com", decision: "allow", include: [{ emailDomain: "example.com" }] },
];

export interface EdgeHarness {
  edge: Edge;
  pki: Pki;
  origin: FakeOrigin;
  stateDir: string;
  keys: SigningKeyStore;
  config: EdgelockConfig;
  records: LogRecord[];
  /** PINs passed to onPinSent, newest last. */
  pins: { email: string; pin: string; emlPath: string }[];
  /** Moves the edge's clock forward. */
  advance(seconds: number): void;
  client(): EdgeClient;
  /** Returns the .eml files in the outbox. */
  outbox(): string[];
  /** The service token "ci", created in the store. */
  serviceToken: { clientId: string; clientSecret: string } | undefined;
}

export interface HarnessOptions {
  policies?: unknown[];
  application?: Record<string, unknown>;
  local?: Partial<EdgeOptions["local"]>;
  origin?: Partial<EdgeOptions["origin"]>;
  /** Reuse an origin instead of starting the echo origin. */
  fakeOrigin?: FakeOrigin;
  keys?: SigningKeyStore;
}

/** Starts an edge in front of an echo origin; everything is closed when the test ends. */
export async function startEdge(t: { after(fn: () => Promise<void> | void): void }, pki: Pki, options: HarnessOptions = {}): Promise<EdgeHarness> {
  const stateDir = temporaryFolder(t);
  const config = testConfig(options.policies ?? DEFAULT_POLICIES, { serviceTokens: ["ci"], ...(options.application === undefined ? {} : { application: options.application }) });
  const applications = compileApplications(config, (host) => (host === "app.example.com" ? "app.localhost" : host));
  const keys = options.keys ?? (await openSigningKeys(join(stateDir, "keys"), { graceDays: 7 }));
  const serviceTokens = openServiceTokenStore(join(stateDir, "service-tokens.json"));
  const created = await serviceTokens.create("ci", { durationSeconds: 3600 });
  const origin = options.fakeOrigin ?? (await startOrigin(t, { server: pki.originServer, clientCa: pki.ca }));
  const { logger, records } = createRecordingLogger();
  const pins: EdgeHarness["pins"] = [];
  let offsetMs = 0;

  const edge = await createEdge({
    config,
    local: { ...config.local.edge, port: 0, ...options.local },
    applications,
    signingKeys: keys,
    serviceTokens,
    stateDir,
    tls: { certPem: pki.edgeServer.certificatePem, keyPem: pki.edgeServer.privateKeyPem },
    origin: {
      url: origin.url,
      clientCertificate: { certPem: pki.originPullClient.certificatePem, keyPem: pki.originPullClient.privateKeyPem },
      caPem: pki.ca.certificatePem,
      servername: "alb.localhost",
      ...options.origin,
    },
    logger,
    now: () => new Date(Date.now() + offsetMs),
    onPinSent: (email, pin, emlPath) => pins.push({ email, pin, emlPath }),
  });
  t.after(() => edge.close());

  const agent = new Agent({
    connect: (() => {
      const connector = buildConnector({ ca: pki.ca.certificatePem });
      return (connectOptions: buildConnector.Options, callback: buildConnector.Callback) => connector({ ...connectOptions, hostname: "127.0.0.1" }, callback);
    })(),
  });
  t.after(() => agent.close());

  return {
    edge,
    pki,
    origin,
    stateDir,
    keys,
    config,
    records,
    pins,
    advance: (seconds) => {
      offsetMs += seconds * 1000;
    },
    client: () => new EdgeClient(agent, edge.port),
    outbox: () => {
      try {
        return readdirSync(join(stateDir, "outbox")).filter((name) => name.endsWith(".eml")).map((name) => join(stateDir, "outbox", name));
      } catch {
        return [];
      }
    },
    serviceToken: { clientId: created.clientId, clientSecret: created.clientSecret },
  };
}

export interface ClientResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Set-Cookie values of this response. */
  setCookies: string[];
}

/** An HTTPS client for the edge that keeps cookies per host, like a browser without JavaScript. */
export class EdgeClient {
  readonly jar = new Map<string, Map<string, string>>();

  constructor(
    private readonly agent: Agent,
    readonly port: number,
  ) {}

  url(host: string, path: string): string {
    return `https://${host}:${this.port}${path}`;
  }

  /** Sends one request, with the jar's cookies for the host, and stores the cookies it sets. */
  async send(url: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<ClientResponse> {
    const target = new URL(url);
    const cookies = this.jar.get(target.hostname) ?? new Map<string, string>();
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0 && headers.cookie === undefined) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    let body: string | undefined;
    if (init.form !== undefined) {
      body = new URLSearchParams(init.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }

    const response = await request(url, { dispatcher: this.agent, method: (init.method ?? (body === undefined ? "GET" : "POST")) as "GET", headers, ...(body === undefined ? {} : { body }) });
    const text = await response.body.text();
    const raw = response.headers["set-cookie"];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of setCookies) {
      const [pair = ""] = line.split(";");
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      const expired = /Expires=Thu, 01 Jan 1970/i.test(line);
      if (!this.jar.has(target.hostname)) this.jar.set(target.hostname, new Map());
      if (expired) this.jar.get(target.hostname)?.delete(name);
      else this.jar.get(target.hostname)?.set(name, value);
    }
    return { status: response.statusCode, headers: response.headers, body: text, setCookies };
  }

  /** Follows 302s from `url` until a response that is not a redirect; returns every response in order. */
  async follow(url: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<ClientResponse[]> {
    const responses = [await this.send(url, init)];
    for (let hop = 0; hop < 10; hop++) {
      const last = responses[responses.length - 1] as ClientResponse;
      if (last.status !== 302) break;
      const next = new URL(String(last.headers.location), url);
      url = next.href;
      responses.push(await this.send(url, { headers: init.headers ?? {} }));
    }
    return responses;
  }
}

/** Reads the PIN out of an .eml message body. */
export function pinFromMessage(path: string): string {
  const text = readFileSync(path, "utf8");
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  const match = /^\s+(\d{4,10})\s*$/m.exec(body);
  if (match?.[1] === undefined) throw new Error(`no PIN in ${path}`);
  return match[1];
}

/** Returns the value of a hidden input, such as the `flow` field of the PIN form. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (match?.[1] === undefined) throw new Error(`no hidden field ${name}`);
  return match[1];
}

/** Writes a PEM to a file, for curl. */
export function writePem(folder: string, name: string, pem: string): string {
  const path = join(folder, name);
  writeFileSync(path, pem);
  return path;
}

/** Logs `email` in through the OTP flow, starting from the app host's root, and checks it ends at the origin. */
export async function login(harness: EdgeHarness, client: EdgeClient, email: string): Promise<void> {
  const hops = await client.follow(client.url("app.localhost", "/"));
  const loginUrl = String(hops[0]?.headers.location);
  const pinPage = await client.send(loginUrl, { form: { step: "email", email } });
  const sent = harness.pins.at(-1);
  assert.ok(sent, "a PIN was sent");
  const done = await client.follow(loginUrl, { form: { step: "pin", flow: hiddenField(pinPage.body, "flow"), pin: sent.pin } });
  assert.equal(done.at(-1)?.status, 200);
}
