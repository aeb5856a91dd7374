/**
 * The client-certificate headers an ALB adds for the target (Elastic Load Balancing guide, "Mutual authentication
 * with TLS"): five X-Amzn-Mtls-Clientcert-* headers in verify mode, one X-Amzn-Mtls-Clientcert with the whole
 * chain in passthrough mode, each renamable by a listener attribute. Whether the ALB strips client-sent copies is
 * undocumented; we strip them unless `local.alb.passClientSuppliedMtlsHeaders` is set.
 */
import type { HeaderNames } from "../../config/schema/alb.ts";
import { formatValidity, type CertificateInfo } from "../mtls/certificate-info.ts";

export type HeaderList = [string, string][];

/** The AWS names, which stay reserved even when the listener renames its headers. */
const DEFAULT_NAMES = [
  "x-amzn-mtls-clientcert",
  "x-amzn-mtls-clientcert-serial-number",
  "x-amzn-mtls-clientcert-issuer",
  "x-amzn-mtls-clientcert-subject",
  "x-amzn-mtls-clientcert-validity",
  "x-amzn-mtls-clientcert-leaf",
  "x-amzn-tls-version",
  "x-amzn-tls-cipher-suite",
];

/** Returns the lowercase names a client may not set itself: the AWS names and the configured renames. */
export function reservedHeaderNames(names: HeaderNames): Set<string> {
  return new Set([...DEFAULT_NAMES, ...Object.values(names).map((name) => name.toLowerCase())]);
}

/** Removes the headers whose lowercase names are in `reserved`. */
export function stripReservedHeaders(headers: HeaderList, reserved: ReadonlySet<string>): HeaderList {
  return headers.filter(([name]) => !reserved.has(name.toLowerCase()));
}

/**
 * URL-encodes PEM as the ALB does: encodeURIComponent, then "+", "/" and "=" restored, because the ALB leaves
 * them unencoded. With `encodePadding`, "=" stays "%3D" as in one AWS example.
 */
export function encodePem(pem: string, encodePadding = false): string {
  const encoded = encodeURIComponent(pem).replaceAll("%2B", "+").replaceAll("%2F", "/");
  return encodePadding ? encoded : encoded.replaceAll("%3D", "=");
}

/** Returns the five verify-mode headers for a leaf, in the documented formats. */
export function verifyModeHeaders(leaf: CertificateInfo, names: HeaderNames, encodePadding = false): HeaderList {
  return [
    [names.serialNumber, leaf.serialNumber],
    [names.issuer, leaf.issuer],
    [names.subject, leaf.subject],
    [names.validity, formatValidity(leaf)],
    [names.leaf, encodePem(leaf.pem, encodePadding)],
  ];
}

/** Returns the passthrough header: every certificate of the chain as encoded PEM, leaf first. */
export function passthroughHeader(chain: readonly CertificateInfo[], names: HeaderNames, encodePadding = false): HeaderList {
  return chain.length === 0 ? [] : [[names.clientCert, chain.map((certificate) => encodePem(certificate.pem, encodePadding)).join("")]];
}

/** Returns the X-Amzn-Tls-Version and X-Amzn-Tls-Cipher-Suite headers (OpenSSL names, such as "TLSv1.3"). */
export function tlsHeaders(protocol: string, cipher: string, names: HeaderNames): HeaderList {
  return [
    [names.tlsVersion, protocol],
    [names.tlsCipherSuite, cipher],
  ];
}
