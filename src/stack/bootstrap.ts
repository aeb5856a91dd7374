/**
 * First-run preparation of the local stack's state. It creates the mTLS root CA with the origin-pull client
 * certificate, its CRL and trust-store bundle, and a separate local CA for the server certificates of the edge
 * and the listener, which a developer trusts in a browser. Later runs reuse everything and only check expiry.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolveConfigPath, resolvePkiDir, type LoadedConfig } from "../config/index.ts";
import { openPkiStore, type PkiStore } from "../pki/store.ts";
import type { CertificateInfo } from "../pki/info.ts";
import { PkiError } from "../pki/errors.ts";
import { EdgelockError } from "../shared/errors.ts";
import { CERTIFICATE_NAMES, stackLayout, type StackLayout } from "./layout.ts";

export class StackError extends EdgelockError<"ERR_STACK_CERTIFICATE_EXPIRED" | "ERR_STACK_PORT_IN_USE" | "ERR_STACK_STATE"> {}

/** PEM material the running stack needs. */
export interface PreparedState {
  layout: StackLayout;
  /** The mTLS PKI: root CA (trust store), origin-pull client certificate, CRL. */
  pki: PkiStore;
  /** The local CA that signs the edge's and the listener's server certificates. */
  localCa: PkiStore;
  originPull: { certPem: string; keyPem: string; info: CertificateInfo };
  edgeServer: { certPem: string; keyPem: string };
  listenerServer: { certPem: string; keyPem: string };
  /** PEM of the local CA certificate, to verify the listener from the edge. */
  localCaPem: string;
  /** Names of the items this run created, for the banner. */
  created: string[];
}

type Progress = (line: string) => void;

async function ensureCa(store: PkiStore, commonName: string, keyType: string, created: string[], label: string): Promise<void> {
  if (store.hasCa()) return;
  await store.init({ subject: { commonName, organization: "edgelock" }, keyType });
  created.push(label);
}

async function ensureLeaf(
  store: PkiStore,
  profile: "client" | "server",
  name: string,
  options: { dnsNames?: string[]; ipAddresses?: string[]; keyType: string },
  created: string[],
): Promise<void> {
  const named = store.list().filter((info) => info.name === name);
  const current = named.find((info) => info.inUse);
  const latest = named.at(-1);
  if (current === undefined && latest?.status === "revoked") {
    throw new StackError(
      "ERR_STACK_STATE",
      `the ${profile} certificate "${name}" is revoked. Issue a new one with "edgelock pki issue ${profile} ${name} --force --dir ${store.paths.dir}", then start again.`,
    );
  }
  const wanted = [...(options.dnsNames ?? [])].sort().join(",");
  const sameNames = current !== undefined && [...current.dnsNames].sort().join(",") === wanted;
  if (current !== undefined && sameNames) return;

  // A server certificate whose names no longer match the configured hosts is replaced.
  await store.issue(profile, name, { ...options, force: current !== undefined });
  created.push(`${profile} certificate "${name}"`);
}

function assertNotExpired(info: { notAfter: string; daysLeft: number }, what: string, fix: string): void {
  if (info.daysLeft >= 0 && Date.parse(info.notAfter) > Date.now()) return;
  throw new StackError("ERR_STACK_CERTIFICATE_EXPIRED", `${what} expired on ${info.notAfter}. ${fix}`);
}

/** Creates what is missing in the state folder and returns the certificates the stack serves with. */
export async function prepareState(loaded: LoadedConfig, progress: Progress = () => {}): Promise<PreparedState> {
  const { config } = loaded;
  const stateDir = resolveConfigPath(loaded, config.local.stateDir);
  const layout = stackLayout(stateDir, resolvePkiDir(loaded));
  const created: string[] = [];
  const pki = openPkiStore(layout.pkiDir, { onProgress: progress });
  const localCa = openPkiStore(layout.localCaDir, { onProgress: progress });
  const originPullName = config.pki.originPullCertificate;

  try {
    await ensureCa(pki, "edgelock mTLS root CA", config.pki.keyType, created, "mTLS root CA");
    await ensureLeaf(pki, "client", originPullName, { keyType: config.pki.keyType }, created);
    if (!existsSync(pki.paths.crl)) await pki.writeCrl();
    if (!existsSync(pki.paths.bundle)) await pki.writeBundle();

    await ensureCa(localCa, "edgelock local CA", "ecdsa-p256", created, "local CA");
    const edgeHosts = [config.local.edge.host, config.local.edge.teamHost];
    await ensureLeaf(localCa, "server", CERTIFICATE_NAMES.edge, { dnsNames: edgeHosts, ipAddresses: ["127.0.0.1", "::1"], keyType: "ecdsa-p256" }, created);
    await ensureLeaf(localCa, "server", CERTIFICATE_NAMES.listener, { dnsNames: [config.local.alb.host], ipAddresses: ["127.0.0.1", "::1"], keyType: config.pki.keyType }, created);
  } catch (error) {
    if (error instanceof PkiError || error instanceof StackError) throw error;
    throw new StackError("ERR_STACK_STATE", `could not prepare the state folder ${stateDir}: ${(error as Error).message}`, { cause: error });
  }

  const renew = (store: string, kind: string, name: string) =>
    `Issue a new one with "edgelock pki issue ${kind} ${name} --force --dir ${store}", then start again.`;
  assertNotExpired(pki.ca(), "The mTLS root CA", `Create a new CA with "edgelock pki init --force --dir ${layout.pkiDir}" and reissue the client certificate.`);
  assertNotExpired(localCa.ca(), "The local CA", `Remove ${layout.localCaDir} and start again; a new local CA is created (trust it again).`);

  const originPull = pki.readCertificate(originPullName);
  assertNotExpired(originPull.info, `The origin-pull client certificate "${originPullName}"`, renew(layout.pkiDir, "client", originPullName));
  const edgeServer = localCa.readCertificate(CERTIFICATE_NAMES.edge);
  assertNotExpired(edgeServer.info, "The edge's server certificate", renew(layout.localCaDir, "server", CERTIFICATE_NAMES.edge));
  const listenerServer = localCa.readCertificate(CERTIFICATE_NAMES.listener);
  assertNotExpired(listenerServer.info, "The listener's server certificate", renew(layout.localCaDir, "server", CERTIFICATE_NAMES.listener));

  return {
    layout,
    pki,
    localCa,
    originPull: { certPem: originPull.certificatePem, keyPem: originPull.privateKeyPem, info: originPull.info },
    edgeServer: { certPem: edgeServer.certificatePem, keyPem: edgeServer.privateKeyPem },
    listenerServer: { certPem: listenerServer.certificatePem, keyPem: listenerServer.privateKeyPem },
    localCaPem: readFileSync(localCa.paths.caCert, "utf8"),
    created,
  };
}
