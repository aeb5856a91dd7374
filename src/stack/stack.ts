/**
 * The local stack: the request path of the deployed architecture on one machine, started in request order.
 *
 *   browser ──HTTPS──▶ edge (Cloudflare Access) ──mTLS origin pull──▶ listener (ALB, verify) ──rule──▶ target
 *
 * The stages start from the back (targets, listener, edge) because each needs the address of the next.
 */
import { Agent, fetch as undiciFetch } from "undici";
import {
  compileApplications,
  createAccessVerifier,
  openServiceTokenStore,
  openSigningKeys,
  type AccessVerifier,
  type CompiledApplication,
} from "../access/index.ts";
import { createListener, loadTrustStore, type Listener, type TrustStore } from "../alb/index.ts";
import type { LoadedConfig } from "../config/index.ts";
import { createEdge, type Edge, type PinSentCallback } from "../edge/index.ts";
import type { Logger } from "../shared/logger.ts";
import { prepareState, type PreparedState } from "./bootstrap.ts";
import { httpTargetFactory } from "./http-targets.ts";
import { buildTargets, type StackTarget, type TargetContext } from "./targets.ts";

export interface StackOptions {
  logger: Logger;
  /** Progress lines for slow first-run steps. */
  progress?: (line: string) => void;
  /** Receives each PIN the login page "emails", for the terminal. */
  onPinSent?: PinSentCallback;
  /** Port overrides, 0 for any free port (tests). Default: the configuration's ports. */
  edgePort?: number;
  listenerPort?: number;
  /** Creates HTTP upstream targets. Default: src/targets/http.ts with the configuration's settings. */
  createHttpTarget?: TargetContext["createHttpTarget"];
  /** Clock of the edge, for tests that move time. */
  now?: () => Date;
}

export interface RunningStack {
  /** The configuration the stack runs with, after command-line overrides such as --target. */
  config: LoadedConfig["config"];
  prepared: PreparedState;
  edge: Edge;
  listener: Listener;
  applications: CompiledApplication[];
  /** Base URLs: the app through the edge, the team domain, and the listener. */
  urls: { app: string; team: string; listener: string };
  /** Reads the CA bundle and CRL files again, as ModifyTrustStore and AddTrustStoreRevocations would. */
  reloadTrustStore(): TrustStore;
  /** Stops the edge, then the listener, then the targets; in-flight requests finish first. */
  close(): Promise<void>;
}

function baseUrl(host: string, port: number): string {
  return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/** Starts the whole path from one configuration. */
export async function startStack(loaded: LoadedConfig, options: StackOptions): Promise<RunningStack> {
  const { config } = loaded;
  const { logger } = options;
  const prepared = await prepareState(loaded, options.progress);
  const { layout } = prepared;
  const edgeConfig = { ...config.local.edge, port: options.edgePort ?? config.local.edge.port };

  // The applications are served on the local app host instead of the deployed one.
  const hostMap = (host: string) => (host === config.hosts.app ? edgeConfig.host : host);
  const applications = compileApplications(config, hostMap);

  // The echo function checks tokens against the edge's JWKS over HTTPS, as it would against the real team
  // domain. The edge's port is known only once it listens, so the verifier is built on first use.
  let edgePort = edgeConfig.port;
  const jwksAgent = new Agent({ connect: { ca: prepared.localCaPem, lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }]) } });
  let verifier: AccessVerifier | undefined;
  const accessVerifier = (): AccessVerifier => {
    verifier ??= createAccessVerifier({
      teamDomain: `${edgeConfig.teamHost}:${edgePort}`,
      audience: applications.map((application) => application.aud),
      fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: jwksAgent }) as unknown as ReturnType<typeof fetch>,
    });
    return verifier;
  };

  const stackTargets = await buildTargets({
    config,
    baseDir: loaded.baseDir,
    logger: logger.child({ stage: "target" }),
    accessVerifier,
    createHttpTarget: options.createHttpTarget ?? httpTargetFactory(config, logger),
  });
  const started: StackTarget[] = [];
  const stopTargets = async () => {
    for (const target of started) await target.stop?.();
    await jwksAgent.close();
  };

  let listener: Listener | undefined;
  let edge: Edge | undefined;
  try {
    for (const target of stackTargets.values()) {
      await target.start?.();
      started.push(target);
    }

    const trustStoreFiles = { bundleFile: prepared.pki.paths.bundle, crlFiles: [prepared.pki.paths.crl] };
    listener = await createListener({
      alb: config.alb,
      local: config.local.alb,
      serverCertificate: prepared.listenerServer,
      trustStore: loadTrustStore(trustStoreFiles),
      trustStoreFiles,
      targets: new Map([...stackTargets].map(([name, entry]) => [name, entry.target])),
      logger: logger.child({ stage: "listener" }),
      logDir: layout.logDir,
      port: options.listenerPort ?? config.local.alb.port,
    });

    const signingKeys = await openSigningKeys(layout.accessDir, { graceDays: edgeConfig.keyRotationGraceDays });
    edge = await createEdge({
      config,
      local: edgeConfig,
      applications,
      signingKeys,
      serviceTokens: openServiceTokenStore(layout.serviceTokensFile),
      stateDir: layout.stateDir,
      tls: prepared.edgeServer,
      origin: {
        url: baseUrl(config.local.alb.host, listener.port),
        clientCertificate: { certPem: prepared.originPull.certPem, keyPem: prepared.originPull.keyPem },
        caPem: prepared.localCaPem,
        servername: config.local.alb.host,
      },
      logger: logger.child({ stage: "edge" }),
      ...(options.onPinSent ? { onPinSent: options.onPinSent } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    edgePort = edge.port;
  } catch (error) {
    await edge?.close();
    await listener?.close();
    await stopTargets();
    throw error;
  }

  const runningEdge = edge;
  const runningListener = listener;
  return {
    config,
    prepared,
    edge: runningEdge,
    listener: runningListener,
    applications,
    urls: {
      app: baseUrl(edgeConfig.host, runningEdge.port),
      team: baseUrl(edgeConfig.teamHost, runningEdge.port),
      listener: baseUrl(config.local.alb.host, runningListener.port),
    },
    reloadTrustStore: () => runningListener.reloadTrustStore(),
    async close() {
      await runningEdge.close();
      await runningListener.close();
      await stopTargets();
    },
  };
}
