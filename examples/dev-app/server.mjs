// A development backend behind the local stack: it checks the Cloudflare Access token with edgelock's middleware
// and shows what reached it (the identity, the Access headers, the ALB's mTLS and forwarding headers).
// Run from the project root: node --import tsx examples/dev-app/server.mjs
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Agent, fetch as undiciFetch } from "undici";
import { compileApplications } from "../../src/access/index.ts";
import { loadConfig, resolveConfigPath } from "../../src/config/index.ts";
import { accessMiddleware } from "../../src/middleware/index.ts";

const HOST = "127.0.0.1";
const PORT = Number(process.env.PORT ?? 3000);

/** The five headers a verify-mode listener adds, with their default names. */
const MTLS_HEADERS = [
  "x-amzn-mtls-clientcert-serial-number",
  "x-amzn-mtls-clientcert-issuer",
  "x-amzn-mtls-clientcert-subject",
  "x-amzn-mtls-clientcert-validity",
  "x-amzn-mtls-clientcert-leaf",
];
const FORWARDING_HEADERS = ["host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-port", "x-amzn-trace-id"];

/**
 * Reads the Access settings: EDGELOCK_TEAM_DOMAIN and EDGELOCK_AUD when set (EDGELOCK_CA_FILE adds a CA for the
 * JWKS fetch), otherwise the local stack's values from edgelock.config.json (or the file EDGELOCK_CONFIG names).
 */
function accessSettings() {
  if (process.env.EDGELOCK_TEAM_DOMAIN !== undefined && process.env.EDGELOCK_AUD !== undefined) {
    return {
      teamDomain: process.env.EDGELOCK_TEAM_DOMAIN,
      audience: process.env.EDGELOCK_AUD.split(","),
      caFile: process.env.EDGELOCK_CA_FILE,
    };
  }

  const loaded = loadConfig(process.env.EDGELOCK_CONFIG);
  const { config } = loaded;
  const edge = config.local.edge;
  // The local edge serves the applications on its own host, so the AUDs are those the local stack derives.
  const applications = compileApplications(config, (host) => (host === config.hosts.app ? edge.host : host));
  return {
    teamDomain: `${edge.teamHost}:${edge.port}`,
    audience: applications.map((application) => application.aud),
    caFile: join(resolveConfigPath(loaded, config.local.stateDir), "local-ca", "ca", "cert.pem"),
  };
}

/** Returns a fetch that trusts `caFile` and, since glibc does not resolve *.localhost, connects those names to 127.0.0.1. */
function jwksFetch(caFile) {
  if (caFile === undefined) return undefined;
  const agent = new Agent({
    connect: {
      ca: readFileSync(caFile, "utf8"),
      lookup: (hostname, options, done) => {
        if (hostname === "localhost" || hostname.endsWith(".localhost")) done(null, [{ address: "127.0.0.1", family: 4 }]);
        else done(new Error(`the dev app resolves only *.localhost names (got ${hostname}); unset EDGELOCK_CA_FILE for other team domains`));
      },
    },
  });
  return (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
}

function pick(headers, names) {
  return Object.fromEntries(names.map((name) => [name, headers[name] ?? null]));
}

/** Collects the Cf-* headers the edge added; the token itself is shown only as its length. */
function accessHeaders(headers) {
  const visible = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith("cf-")) continue;
    visible[name] = name === "cf-access-jwt-assertion" ? `(present, ${String(value).length} characters)` : value;
  }
  return visible;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function table(title, entries) {
  const rows = Object.entries(entries)
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td><code>${escapeHtml(value ?? "(absent)")}</code></td></tr>`)
    .join("");
  return `<h2>${escapeHtml(title)}</h2><table>${rows}</table>`;
}

function renderHtml(report) {
  const { identity } = report;
  const displayName = identity.kind === "user" ? identity.email : `service token ${identity.commonName}`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>edgelock dev app</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}th{text-align:left;padding-right:1rem;vertical-align:top}td code{word-break:break-all}</style>
</head><body><h1>Hello, ${escapeHtml(displayName)}</h1>
${table("Token claims", identity.claims)}
${table("Access headers", report.accessHeaders)}
${table("Mutual TLS headers (ALB, verify mode)", report.mtlsHeaders)}
${table("Forwarding headers", report.forwardingHeaders)}
<p>The same data as JSON: <code>curl -H 'Accept: application/json' …</code></p></body></html>`;
}

const settings = accessSettings();
const guard = accessMiddleware({
  teamDomain: settings.teamDomain,
  audience: settings.audience,
  fetch: jwksFetch(settings.caFile),
  onReject: (error, request) => console.warn(`rejected ${request.method} ${request.url}: ${error.code ?? "error"}: ${error.message}`),
});

const server = createServer((request, response) => {
  // The ALB's health checks carry no Access token, so the health path stays outside the middleware.
  if (request.url === "/health") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    return;
  }

  guard(request, response, () => {
    const report = {
      identity: request.accessIdentity,
      accessHeaders: accessHeaders(request.headers),
      mtlsHeaders: pick(request.headers, MTLS_HEADERS),
      forwardingHeaders: pick(request.headers, FORWARDING_HEADERS),
    };
    if ((request.headers.accept ?? "").includes("text/html")) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(renderHtml(report));
    } else {
      response.writeHead(200, { "content-type": "application/json" }).end(`${JSON.stringify(report, null, 2)}\n`);
    }
  });
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`dev app on http://${HOST}:${port}, checking Access tokens of ${settings.teamDomain} for ${settings.audience.length} AUD(s)`);
});
