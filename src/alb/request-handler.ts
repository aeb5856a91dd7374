/**
 * The per-request step of the listener, in the ALB's order. It runs protocol checks and desync classification,
 * then header processing: invalid names dropped, client copies of mTLS headers stripped, the ALB's headers added.
 * Then come rule evaluation, the target or a fixed response, and finally the access-log line.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Logger } from "pino";
import type { AlbConfig } from "../config/schema/alb.ts";
import type { LocalAlbConfig } from "../config/schema/local.ts";
import type { HeaderList, Target, TargetRequest, TargetResponse } from "../targets/index.ts";
import { CONNECTION_STATE, type ConnectionState } from "./connection.ts";
import { applyForwardingHeaders, MAX_FORWARDED_ADDRESSES } from "./headers/forwarded.ts";
import { stripReservedHeaders } from "./headers/mtls-headers.ts";
import { classifyRequest, desyncAction, dropInvalidHeaderFields, hasUnsupportedTransferEncoding, type Classification } from "./http-validation.ts";
import { formatAccessLogLine } from "./logs/access-log.ts";
import type { LogFile } from "./logs/log-file.ts";
import { errorPage, fixedResponse } from "./responses.ts";
import type { RuleMatch, RuleRequest } from "./rules.ts";

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

/** Headers a response may not carry over HTTP/2, and that the ALB sets itself over HTTP/1.1. */
const CONNECTION_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length"]);

export interface RequestContext {
  alb: AlbConfig;
  local: LocalAlbConfig;
  elb: string;
  targets: ReadonlyMap<string, Target>;
  matchRule: (request: RuleRequest) => RuleMatch;
  reservedHeaders: ReadonlySet<string>;
  logger: Logger;
  accessLog: LogFile;
  /** True once the listener is closing: responses then end their connection. */
  closing: () => boolean;
}

/** The result of one request, for the access log. */
interface Outcome {
  response: TargetResponse;
  target: Target | undefined;
  priority: number | undefined;
  actions: string[];
  traceId: string | undefined;
  targetSeconds: number;
}

function headerPairs(request: AnyRequest): HeaderList {
  const raw = request.rawHeaders;
  const pairs: HeaderList = [];
  let authority: string | undefined;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] as string;
    const value = raw[index + 1] as string;
    if (name === ":authority") authority = value;
    else if (!name.startsWith(":")) pairs.push([name, value]);
  }
  // HTTP/2 carries the host in :authority; the ALB passes it on as a Host header.
  if (authority !== undefined && !pairs.some(([name]) => name.toLowerCase() === "host")) pairs.unshift(["host", authority]);
  return pairs;
}

function readBody(request: AnyRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function writeResponse(response: AnyResponse, result: TargetResponse, closeConnection: boolean, http2: boolean, head: boolean): number {
  const grouped = new Map<string, string[]>();
  // A response to HEAD has no body, so its length is the one the target declared for the body it would send.
  const declaredLength = head ? result.headers.find(([name]) => name.toLowerCase() === "content-length")?.[1] : undefined;
  for (const [name, value] of result.headers) {
    if (http2 && CONNECTION_HEADERS.has(name.toLowerCase())) continue;
    if (!http2 && name.toLowerCase() === "content-length") continue;
    const key = http2 ? name.toLowerCase() : name;
    grouped.set(key, [...(grouped.get(key) ?? []), value]);
  }
  for (const [name, values] of grouped) response.setHeader(name, values.length === 1 ? (values[0] as string) : values);
  response.setHeader("content-length", declaredLength ?? String(result.body.length));
  if (closeConnection && !http2) response.setHeader("connection", "close");
  if (!http2 && result.statusText !== undefined) (response as ServerResponse).statusMessage = result.statusText;
  response.statusCode = result.status;
  response.end(result.body);
  return result.body.length + result.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
}

async function route(request: AnyRequest, state: ConnectionState, context: RequestContext, http2: boolean): Promise<{ outcome: Outcome; classification: Classification; close: boolean; receivedBytes: number }> {
  const method = request.method ?? "GET";
  const [path = "/", ...queryParts] = (request.url ?? "/").split("?");
  let headers = headerPairs(request);
  const receivedHeaderBytes = headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  const early = (response: TargetResponse, classification: Classification = { classification: "Compliant", reason: undefined }, close = false) => ({
    outcome: { response, target: undefined, priority: undefined, actions: [], traceId: undefined, targetSeconds: -1 },
    classification,
    close,
    receivedBytes: receivedHeaderBytes,
  });

  if (method === "TRACE") return early(errorPage(405));
  if (!http2 && hasUnsupportedTransferEncoding(headers)) return early(errorPage(501), { classification: "Severe", reason: "BadTransferEncoding" }, true);
  const classification = http2 ? { classification: "Compliant" as const, reason: undefined } : classifyRequest(method, headers);
  const action = desyncAction(context.alb.attributes.desyncMitigationMode, classification.classification);
  if (action === "block") return early(errorPage(400), classification, true);

  if (context.alb.attributes.dropInvalidHeaderFields) headers = dropInvalidHeaderFields(headers);
  if (!context.local.passClientSuppliedMtlsHeaders) headers = stripReservedHeaders(headers, context.reservedHeaders);
  headers.push(...state.connectionHeaders);
  const forwarding = applyForwardingHeaders(headers, {
    clientAddress: state.clientIp,
    clientPort: state.clientPort,
    listenerPort: state.listenerPort,
    xffMode: context.alb.attributes.xffHeaderProcessingMode,
    xffClientPort: context.alb.attributes.xffClientPort,
  });
  if (forwarding.forwardedAddresses > MAX_FORWARDED_ADDRESSES) return early(errorPage(463), classification, action === "allow-and-close");

  const body = await readBody(request);
  const host = forwarding.headers.find(([name]) => name.toLowerCase() === "host")?.[1];
  const match = context.matchRule({ method, path, host, headers: forwarding.headers, sourceAddress: state.clientIp });
  const base = { priority: match.priority, traceId: forwarding.traceId };
  const close = action === "allow-and-close";
  const receivedBytes = receivedHeaderBytes + body.length;

  if ("fixedResponse" in match.action) {
    return { outcome: { ...base, response: fixedResponse(match.action.fixedResponse), target: undefined, actions: ["fixed-response"], targetSeconds: -1 }, classification, close, receivedBytes };
  }
  const target = context.targets.get(match.action.forward);
  if (target === undefined) throw new Error(`rule forwards to target "${match.action.forward}", which the listener was not given`);

  const targetRequest: TargetRequest = {
    method,
    path,
    rawQuery: queryParts.join("?"),
    headers: forwarding.headers,
    body,
    clientAddress: state.clientIp,
    clientPort: state.clientPort,
    listener: { protocol: "https", port: state.listenerPort, httpVersion: request.httpVersion },
  };
  const started = performance.now();
  const response = await target.handle(targetRequest);
  const targetSeconds = (performance.now() - started) / 1000;
  return { outcome: { ...base, response, target, actions: ["forward"], targetSeconds }, classification, close, receivedBytes };
}

/** Handles one request on an accepted connection and writes its access-log line. */
export async function handleRequest(request: AnyRequest, response: AnyResponse, context: RequestContext): Promise<void> {
  const created = new Date();
  const started = performance.now();
  const http2 = request.httpVersion === "2.0";
  const state = (request.socket as unknown as Record<symbol, ConnectionState | undefined>)[CONNECTION_STATE];
  if (state === undefined) {
    // Only sockets that passed acceptConnection reach the HTTP layer; anything else is a listener bug.
    response.destroy();
    context.logger.error("request on a connection without state; closed it");
    return;
  }
  // The idle timeout counts only time without traffic in either direction: while a target works on a request,
  // the client connection is not idle, and a slow target ends in the target's own 504 instead.
  const idleTimer: { setTimeout(ms: number): unknown } = http2 ? ((request as Http2ServerRequest).stream.session ?? request.socket) : request.socket;
  state.inFlight++;
  if (state.inFlight === 1) idleTimer.setTimeout(0);

  let routed: Awaited<ReturnType<typeof route>>;
  try {
    routed = await route(request, state, context, http2);
  } catch (error) {
    context.logger.error({ err: error, connTraceId: state.connTraceId }, "request handling failed; responded with 502");
    routed = { outcome: { response: errorPage(502), target: undefined, priority: undefined, actions: [], traceId: undefined, targetSeconds: -1 }, classification: { classification: "Compliant", reason: undefined }, close: true, receivedBytes: 0 };
  }
  const { outcome, classification } = routed;
  const close = routed.close || context.closing();
  const sentBytes = writeResponse(response, outcome.response, close, http2, request.method === "HEAD");
  response.once("finish", () => {
    state.inFlight--;
    if (state.inFlight === 0) idleTimer.setTimeout(context.alb.attributes.idleTimeoutSeconds * 1000);
    if (close && !http2) request.socket.end();
  });

  const elapsed = (performance.now() - started) / 1000;
  const targetSeconds = outcome.targetSeconds;
  const status = outcome.response.status;
  context.accessLog.append(
    formatAccessLogLine({
      type: http2 ? "h2" : "https",
      time: new Date(),
      elb: context.elb,
      clientIp: state.clientIp,
      clientPort: state.clientPort,
      target: undefined,
      requestProcessingSeconds: targetSeconds < 0 ? -1 : Math.max(0, elapsed - targetSeconds),
      targetProcessingSeconds: targetSeconds,
      responseProcessingSeconds: targetSeconds < 0 ? -1 : 0,
      elbStatusCode: status,
      targetStatusCode: outcome.target === undefined || outcome.response.errorReason !== undefined ? undefined : status,
      receivedBytes: routed.receivedBytes,
      sentBytes,
      request: `${request.method} https://${state.serverName ?? "-"}:${state.listenerPort}${request.url} HTTP/${request.httpVersion}`,
      userAgent: request.headers["user-agent"] as string | undefined,
      sslCipher: state.tlsCipher,
      sslProtocol: state.tlsProtocol,
      targetGroupArn: outcome.target?.targetGroupArn,
      traceId: outcome.traceId,
      domainName: state.serverName,
      matchedRulePriority: outcome.priority,
      requestCreationTime: created,
      actionsExecuted: outcome.actions,
      errorReason: outcome.response.errorReason,
      classification: http2 ? undefined : classification.classification,
      classificationReason: classification.reason,
      connTraceId: state.connTraceId,
    }),
  );
  context.logger.info(
    { method: request.method, path: (request.url ?? "").split("?")[0], status, errorReason: outcome.response.errorReason, rule: outcome.priority, connTraceId: state.connTraceId },
    "request",
  );
}
