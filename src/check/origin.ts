/**
 * Checks 1-3: the origin's mutual TLS gate. An ALB in verify mode accepts only clients whose certificate chains
 * to its trust store. AWS documents no on-wire failure. The observed one is a TCP reset, without an HTTP status,
 * after a TLS 1.3 handshake that looked complete to the client. So a rejection is any end of the connection
 * before HTTP bytes, and any HTTP response, whatever its status, means the gate let the client through.
 */
import { X509Certificate } from "node:crypto";
import { createRootCa, issueLeaf } from "../pki/index.ts";
import { describeConnectionProblem, describeEnding, outcomeDetails, type CheckContext, type Verdict } from "./context.ts";
import { albSerialNumber, compareMtlsHeaders, readAccessTokenRejection, readEchoEvent } from "./echo.ts";
import type { ClientCertificate } from "./network.ts";

/** Check 1: a client without a certificate gets no HTTP response. */
export async function checkOriginRejectsAnonymous(context: CheckContext, signal: AbortSignal): Promise<Verdict> {
  const outcome = await context.connector.probe({ url: context.originUrl, signal });
  const details = outcomeDetails(outcome);

  if (outcome.kind === "no-response") return { status: "pass", reason: `${describeEnding(outcome)}.`, details };
  if (outcome.kind === "response") {
    return { status: "fail", reason: `mTLS is off or in passthrough: the origin returned HTTP ${outcome.status} to a client without a certificate.`, details };
  }
  return { status: "fail", reason: `${describeConnectionProblem(outcome, context.originUrl)}.`, details };
}

/** Check 3: a certificate from a throw-away CA, made in memory and never written, gets no HTTP response. */
export async function checkOriginRejectsOtherCa(context: CheckContext, signal: AbortSignal): Promise<Verdict> {
  const stranger = await throwAwayClientCertificate();
  const outcome = await context.connector.probe({ url: context.originUrl, clientCertificate: stranger, signal });
  const details = outcomeDetails(outcome);

  if (outcome.kind === "no-response") return { status: "pass", reason: `${describeEnding(outcome)}.`, details };
  if (outcome.kind === "response") {
    return {
      status: "fail",
      reason: `mTLS is off or in passthrough: the origin returned HTTP ${outcome.status} to a client whose certificate comes from an unknown CA.`,
      details,
    };
  }
  return { status: "fail", reason: `${describeConnectionProblem(outcome, context.originUrl)}.`, details };
}

/**
 * Check 2: the edge's certificate gets an HTTP response from the target. When the body is the echo JSON, the
 * verify-mode headers must name that certificate. The echo's 401 `access_token_invalid` still proves that the mTLS
 * gate opened. When check 5 obtained an app token, it is sent too, so the echo returns 200 and shows the headers.
 */
export async function checkOriginAcceptsEdgeCertificate(context: CheckContext, signal: AbortSignal): Promise<Verdict> {
  const { appToken } = context.shared;
  const headers = appToken === undefined ? undefined : { "cf-access-jwt-assertion": appToken };
  const outcome = await context.connector.probe({ url: context.originUrl, clientCertificate: context.clientCertificate, signal, ...(headers ? { headers } : {}) });
  const serial = albSerialNumber(new X509Certificate(context.clientCertificate.certPem));
  const details = { ...outcomeDetails(outcome), serialNumber: serial, sentAccessToken: appToken !== undefined };

  if (outcome.kind === "no-response") {
    return {
      status: "fail",
      reason: `the origin rejected the edge's certificate (serial ${serial}): ${describeEnding(outcome)}. Is its CA in the trust store, and is it absent from the CRL?`,
      details,
    };
  }
  if (outcome.kind !== "response") return { status: "fail", reason: `${describeConnectionProblem(outcome, context.originUrl)}.`, details };

  const { status, body } = outcome;
  const rejection = status === 401 ? readAccessTokenRejection(body) : undefined;
  if (rejection !== undefined && appToken === undefined) {
    return { status: "pass", reason: `the mTLS gate let the certificate through: HTTP 401 from the target, which requires an Access token (hardened default; pass a service token to see the mTLS headers).`, details };
  }
  if (rejection !== undefined) {
    return { status: "fail", reason: `the mTLS gate let the certificate through, but the function rejected the app token from check 5: ${rejection}.`, details };
  }
  if (status < 200 || status > 299) {
    return { status: "fail", reason: `the origin returned HTTP ${status} to the edge's certificate; expected a 2xx from the target, or edgelock's 401 access-token JSON.`, details };
  }

  const event = readEchoEvent(body);
  if (event === undefined) {
    return { status: "pass", reason: `HTTP ${status} from the target; its body is not the echo JSON, so the mTLS headers were not compared.`, details };
  }
  const mismatch = compareMtlsHeaders(event, context.clientCertificate.certPem, context.headerNames);
  if (mismatch !== undefined) return { status: "fail", reason: `HTTP ${status} from the echo function, but ${mismatch}.`, details };
  return {
    status: "pass",
    reason: `HTTP ${status} from the echo function; ${context.headerNames.serialNumber} is ${serial} and the leaf header decodes to the certificate sent.`,
    details,
  };
}

async function throwAwayClientCertificate(): Promise<ClientCertificate> {
  const ca = await createRootCa({ commonName: "edgelock check throw-away CA" }, { keyType: "ecdsa-p256", validityDays: 1 });
  const leaf = await issueLeaf(ca, { profile: "client", subject: { commonName: "edgelock check stranger" }, keyType: "ecdsa-p256", validityDays: 1 });
  return { certPem: leaf.certificatePem, keyPem: leaf.privateKeyPem };
}
