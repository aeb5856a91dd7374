/**
 * Certificate revocation lists in PEM, the only form an ALB trust store takes. @peculiar/x509 writes the label
 * "BEGIN CRL", which OpenSSL and Node reject, so the DER is re-encoded under "X509 CRL".
 */
import "reflect-metadata";
import { AsnConvert } from "@peculiar/asn1-schema";
import { CRLNumber, id_ce_cRLNumber } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import type { Issuer } from "./certificates.ts";
import { signingAlgorithmFor } from "./keys.ts";

/** One revoked certificate. */
export interface RevocationEntry {
  /** Serial number as hex. */
  serialNumber: string;
  revokedAt: Date;
}

export interface CrlOptions {
  /** CRL number; each new CRL of one CA must use a larger one. */
  number: number;
  /** Default: now. */
  thisUpdate?: Date;
  /** Default: thisUpdate plus 30 days. */
  nextUpdate?: Date;
}

/** Signs a CRL listing `entries` and returns it as PEM with the "X509 CRL" label. */
export async function createCrl(issuer: Issuer, entries: RevocationEntry[], options: CrlOptions): Promise<{ crl: x509.X509Crl; pem: string }> {
  const thisUpdate = options.thisUpdate ?? new Date();
  const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * 86_400_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subject,
    thisUpdate,
    nextUpdate,
    signingAlgorithm: signingAlgorithmFor(issuer.privateKey),
    signingKey: issuer.privateKey,
    entries: entries.map((entry) => ({ serialNumber: entry.serialNumber, revocationDate: entry.revokedAt, reason: x509.X509CrlReason.unspecified })),
    extensions: [
      new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(options.number))),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  });
  return { crl, pem: toCrlPem(crl.rawData) };
}

/** Encodes CRL DER as PEM with the "X509 CRL" label. */
export function toCrlPem(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, "X509 CRL");
}
