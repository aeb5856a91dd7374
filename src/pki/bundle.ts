/**
 * CA bundles for an ALB trust store. AWS documents the format in the Elastic Load Balancing guide ("Mutual
 * authentication with TLS", quotas) and in the re:Post article on InvalidCaCertificatesBundle. A bundle contains
 * PEM certificates only, with no blank lines and no text dumps. Comments are whole lines that start with "#" and
 * contain no "-". It holds at most 25 CA certificates of at most 16 KB each, with RSA 2048-8192 or ECDSA
 * P-256/P-384/P-521 keys and SHA-256/384/512 signatures (RSA PKCS#1 v1.5, RSASSA-PSS or ECDSA). `validateBundle` enforces the same rules,
 * so a bundle the local listener accepts is one the real trust store accepts too.
 */
import "reflect-metadata";
import { X509Certificate as NodeX509Certificate } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import * as x509 from "@peculiar/x509";
import { PkiError } from "./errors.ts";

/** Maximum number of CA certificates in one trust store (ELB quota). */
export const MAX_BUNDLE_CERTIFICATES = 25;

/** Maximum size of one CA certificate in bytes (ELB quota "CA certificate size", 16 KB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

const ACCEPTED_KEYS = "accepted keys: RSA 2048 to 8192 bits, ECDSA P-256, P-384 or P-521";
const ACCEPTED_SIGNATURES = "accepted signatures: SHA-256, SHA-384 or SHA-512 with RSA PKCS#1 v1.5, RSASSA-PSS or ECDSA";
const ACCEPTED_CURVES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const ACCEPTED_SIGNATURE_NAMES = new Set(["RSASSA-PKCS1-v1_5", "RSA-PSS", "ECDSA"]);
const ACCEPTED_HASHES = new Set(["SHA-256", "SHA-384", "SHA-512"]);

const BEGIN_LINE = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const END_LINE = /^-----END ([A-Z0-9 ]+)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** A bundle that passed every rule. */
export interface ValidatedBundle {
  /** The certificates in file order. */
  certificates: x509.X509Certificate[];
  /** Each certificate as PEM, in the same order, for Node's `tls` and `crypto.X509Certificate`. */
  pems: string[];
}

export interface ValidateBundleOptions {
  /** Name of the bundle in error messages, such as a file path. Default "CA bundle". */
  source?: string;
}

/** One PEM block found by the line scanner, with the line it starts on (1-based). */
interface PemBlock {
  line: number;
  der: Uint8Array;
  pemBytes: number;
}

/**
 * Checks `text` against the ALB trust-store bundle rules and returns its certificates. Throws PkiError
 * ERR_PKI_BUNDLE naming the first rule broken, with its line number or certificate, and the fix.
 */
export function validateBundle(text: string, options: ValidateBundleOptions = {}): ValidatedBundle {
  const source = options.source ?? "CA bundle";
  const blocks = scanBundle(text, source);

  if (blocks.length === 0) {
    throw bundleError(`${source} contains no certificate; add at least one "-----BEGIN CERTIFICATE-----" block`);
  }
  if (blocks.length > MAX_BUNDLE_CERTIFICATES) {
    throw bundleError(
      `${source} contains ${blocks.length} certificates, but an ALB trust store takes at most ${MAX_BUNDLE_CERTIFICATES}; remove CAs that no client certificate chains to`,
    );
  }

  const certificates = blocks.map((block, index) => checkCertificate(block, index + 1, source));
  return { certificates, pems: certificates.map((certificate) => certificate.toString("pem")) };
}

/**
 * Formats certificates as a bundle the ALB accepts: each CERTIFICATE block re-encoded from its DER with 64-column
 * lines and "\n" endings, duplicates removed, no comments, one final newline. Each input may contain several
 * blocks. Blocks of other types (keys, CRLs) and text around the blocks are dropped. Throws ERR_PKI_BUNDLE when
 * an input contains no certificate or a block that is not valid base64 DER.
 */
export function formatBundle(certificatePems: string[]): string {
  const seen = new Set<string>();
  const blocks: string[] = [];
  certificatePems.forEach((pem, index) => {
    const found = pem.replaceAll("\r\n", "\n").match(/-----BEGIN CERTIFICATE-----\n[\s\S]*?\n-----END CERTIFICATE-----/g) ?? [];
    if (found.length === 0) throw bundleError(`input ${index + 1} of the bundle contains no "-----BEGIN CERTIFICATE-----" block`);

    for (const block of found) {
      let certificate: x509.X509Certificate;
      try {
        certificate = new x509.X509Certificate(block);
      } catch (error) {
        throw bundleError(`input ${index + 1} of the bundle contains a certificate that cannot be parsed: ${(error as Error).message}`, error);
      }
      const encoded = certificate.toString("pem").replaceAll("\r\n", "\n");
      if (seen.has(encoded)) continue;
      seen.add(encoded);
      blocks.push(encoded);
    }
  });
  return `${blocks.join("\n")}\n`;
}

/** Splits the text into PEM blocks, enforcing the line rules (line endings, blank lines, comments, text). */
function scanBundle(text: string, source: string): PemBlock[] {
  const carriageReturn = text.indexOf("\r");
  if (carriageReturn !== -1) {
    const line = text.slice(0, carriageReturn).split("\n").length;
    throw bundleError(`${source} line ${line} ends with a carriage return (Windows CRLF line ending); convert the file to "\\n" line endings, for example with dos2unix`);
  }

  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();

  const blocks: PemBlock[] = [];
  let open: { line: number; base64: string[] } | undefined;
  lines.forEach((line, index) => {
    const number = index + 1;
    if (line.trim() === "") {
      throw bundleError(`${source} line ${number} is blank; an ALB trust store rejects blank lines, so remove it`);
    }

    if (open === undefined) {
      const begin = BEGIN_LINE.exec(line);
      if (begin !== null) {
        if (begin[1] !== "CERTIFICATE") throw bundleError(otherBlockMessage(source, number, begin[1] ?? ""));
        open = { line: number, base64: [] };
        return;
      }
      if (line.startsWith("#")) {
        if (line.includes("-")) {
          throw bundleError(`${source} line ${number} is a comment containing "-", which an ALB trust store rejects; remove the "-" characters or the comment`);
        }
        return;
      }
      throw bundleError(
        `${source} line ${number} is neither part of a PEM certificate nor a "#" comment (got "${preview(line)}"); remove text such as "openssl x509 -text" output and keep only the PEM blocks`,
      );
    }

    const end = END_LINE.exec(line);
    if (end !== null) {
      if (end[1] !== "CERTIFICATE") {
        throw bundleError(`${source} line ${number} ends a "${end[1]}" block, but the certificate on line ${open.line} is still open; add "-----END CERTIFICATE-----"`);
      }
      blocks.push(decodeBlock(open, number, source));
      open = undefined;
      return;
    }
    if (line.startsWith("#")) {
      throw bundleError(`${source} line ${number} is a comment inside the certificate that starts on line ${open.line}; move comments between certificates`);
    }
    if (!BASE64_LINE.test(line)) {
      throw bundleError(`${source} line ${number} inside the certificate that starts on line ${open.line} is not base64 (got "${preview(line)}")`);
    }
    open.base64.push(line);
  });

  if (open !== undefined) {
    throw bundleError(`${source}: the certificate that starts on line ${open.line} has no "-----END CERTIFICATE-----" line`);
  }
  return blocks;
}

function decodeBlock(open: { line: number; base64: string[] }, endLine: number, source: string): PemBlock {
  const base64 = open.base64.join("");
  const der = Buffer.from(base64, "base64");
  if (der.length === 0 || der.toString("base64") !== base64) {
    throw bundleError(`${source}: the certificate on lines ${open.line}-${endLine} is not valid base64`);
  }
  const pemBytes = "-----BEGIN CERTIFICATE-----\n".length + open.base64.reduce((sum, line) => sum + line.length + 1, 0) + "-----END CERTIFICATE-----\n".length;
  return { line: open.line, der, pemBytes };
}

/** Parses one certificate and checks its size, key and signature algorithm. */
function checkCertificate(block: PemBlock, position: number, source: string): x509.X509Certificate {
  const where = `${source}: certificate ${position} (line ${block.line})`;

  // NOTE: AWS does not say whether the 16 KB limit applies to the DER or the PEM form. PEM is the larger of the
  // two, so checking it is the stricter reading.
  if (block.pemBytes > MAX_CERTIFICATE_BYTES) {
    throw bundleError(`${where} is ${block.pemBytes} bytes as PEM, over the ALB limit of ${MAX_CERTIFICATE_BYTES} bytes (16 KB) per CA certificate`);
  }

  let certificate: x509.X509Certificate;
  let nodeCertificate: NodeX509Certificate;
  try {
    certificate = new x509.X509Certificate(block.der);
    nodeCertificate = new NodeX509Certificate(block.der);
  } catch (error) {
    throw bundleError(`${where} is not a valid X.509 certificate: ${(error as Error).message}`, error);
  }
  const named = `${where}, subject "${certificate.subject}"`;

  const keyProblem = describeKeyProblem(nodeCertificate);
  if (keyProblem !== undefined) throw bundleError(`${named} has ${keyProblem}, which an ALB trust store rejects; ${ACCEPTED_KEYS}`);

  const signatureProblem = describeSignatureProblem(certificate);
  if (signatureProblem !== undefined) {
    throw bundleError(`${named} is signed with ${signatureProblem}, which an ALB trust store rejects; ${ACCEPTED_SIGNATURES}`);
  }
  return certificate;
}

/** Returns a description of the public key when the ALB does not accept it, else undefined. */
function describeKeyProblem(certificate: NodeX509Certificate): string | undefined {
  const key = certificate.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") {
    const bits = details.modulusLength ?? 0;
    return bits >= 2048 && bits <= 8192 ? undefined : `an RSA ${bits}-bit key`;
  }
  if (key.asymmetricKeyType === "ec") {
    return details.namedCurve !== undefined && details.namedCurve in ACCEPTED_CURVES ? undefined : `an ECDSA key on curve ${details.namedCurve ?? "(unnamed)"}`;
  }
  const names: Record<string, string> = { ed25519: "Ed25519", ed448: "Ed448", dsa: "DSA", x25519: "X25519", x448: "X448" };
  return `an ${names[key.asymmetricKeyType ?? ""] ?? key.asymmetricKeyType ?? "unknown"} key`;
}

/** Returns a description of the signature algorithm when the ALB does not accept it, else undefined. */
function describeSignatureProblem(certificate: x509.X509Certificate): string | undefined {
  let algorithm: { name: string; hash?: { name: string } };
  try {
    algorithm = certificate.signatureAlgorithm as { name: string; hash?: { name: string } };
  } catch {
    // @peculiar/x509 throws for algorithms it does not know; report the OID instead.
    const oid = AsnConvert.parse(certificate.rawData, Certificate).signatureAlgorithm.algorithm;
    return `signature algorithm OID ${oid}`;
  }

  const hash = algorithm.hash?.name;
  if (ACCEPTED_SIGNATURE_NAMES.has(algorithm.name) && hash !== undefined && ACCEPTED_HASHES.has(hash)) return undefined;
  return hash === undefined ? algorithm.name : `${algorithm.name} with ${hash}`;
}

function otherBlockMessage(source: string, line: number, label: string): string {
  const advice = label.includes("PRIVATE KEY")
    ? "remove the private key, because a trust store takes only CA certificates and a key must never be uploaded"
    : `keep only "CERTIFICATE" blocks${label.includes("CRL") ? " and upload CRLs as trust store revocations" : ""}`;
  return `${source} line ${line} starts a "${label}" PEM block; ${advice}`;
}

function preview(line: string): string {
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}

function bundleError(message: string, cause?: unknown): PkiError {
  return new PkiError("ERR_PKI_BUNDLE", message, { cause });
}
