/**
 * Check 6: days until the client certificate, the mTLS root CA and the CRL's nextUpdate run out, read from
 * files only. Certificates warn under 30 days. The CRL warns under 7 days, because `edgelock pki crl` writes
 * CRLs valid for 30 days, so a 30-day threshold would warn on every fresh CRL. An expired certificate, a CRL
 * past nextUpdate or a client certificate the CRL lists fails the check. The ALB is believed to ignore
 * nextUpdate, but a CRL past it means revocations are no longer being published.
 */
import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { X509Crl } from "@peculiar/x509";
import { albSerialNumber } from "./echo.ts";
import type { CheckContext, Verdict } from "./context.ts";
import type { CheckStatus } from "./types.ts";

const DAY_MS = 86_400_000;
/** Days before a certificate's notAfter from which the check warns. */
export const CERTIFICATE_WARNING_DAYS = 30;
/** Days before a CRL's nextUpdate from which the check warns. */
export const CRL_WARNING_DAYS = 7;

interface Item {
  status: CheckStatus;
  text: string;
  days: number | null;
}

function daysLeft(until: Date, now: Date): number {
  return Math.floor((until.getTime() - now.getTime()) / DAY_MS);
}

function dateOnly(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function expiryItem(subject: string, until: Date, now: Date, warningDays: number, verb = "expires"): Item {
  const days = daysLeft(until, now);
  if (until.getTime() <= now.getTime()) return { status: "fail", text: `${subject} ${verb === "expires" ? "expired" : "was due"} on ${dateOnly(until)}`, days };
  const text = `${subject} ${verb} in ${days} day${days === 1 ? "" : "s"} (${dateOnly(until)})`;
  return { status: days < warningDays ? "warn" : "pass", text, days };
}

function readCertificate(file: string): X509Certificate {
  return new X509Certificate(readFileSync(file));
}

/** Check 6. */
export async function checkCertificateHealth(context: CheckContext): Promise<Verdict> {
  const now = context.now();
  const { caCertificateFile, crlFile } = context.healthFiles;
  const client = new X509Certificate(context.clientCertificate.certPem);
  const items: Item[] = [expiryItem("the client certificate", new Date(client.validTo), now, CERTIFICATE_WARNING_DAYS)];

  if (caCertificateFile === undefined || !existsSync(caCertificateFile)) {
    items.push({ status: "warn", text: `the CA was not checked: ${caCertificateFile ?? "no PKI folder"} does not exist`, days: null });
  } else {
    items.push(expiryItem("the CA", new Date(readCertificate(caCertificateFile).validTo), now, CERTIFICATE_WARNING_DAYS));
  }

  if (crlFile === undefined || !existsSync(crlFile)) {
    items.push({ status: "warn", text: `the CRL was not checked: ${crlFile ?? "no PKI folder"} does not exist`, days: null });
  } else {
    const crl = new X509Crl(readFileSync(crlFile, "utf8"));
    if (crl.nextUpdate === undefined) items.push({ status: "warn", text: "the CRL has no nextUpdate", days: null });
    else items.push(expiryItem("the CRL's next update", crl.nextUpdate, now, CRL_WARNING_DAYS, "is due"));
    if (crl.findRevoked(albSerialNumber(client)) !== null) {
      items.push({ status: "fail", text: `the CRL lists the client certificate (serial ${albSerialNumber(client)}) as revoked`, days: null });
    }
  }

  const status: CheckStatus = items.some((item) => item.status === "fail") ? "fail" : items.some((item) => item.status === "warn") ? "warn" : "pass";
  const text = items.map((item) => item.text).join("; ");
  const [certificate, ca, crl] = items;
  return {
    status,
    reason: `${text.charAt(0).toUpperCase()}${text.slice(1)}.`,
    details: { clientCertificateDaysLeft: certificate?.days ?? null, caDaysLeft: ca?.days ?? null, crlNextUpdateDaysLeft: crl?.days ?? null },
  };
}
