/**
 * Key pairs for the PKI, limited to what an ALB trust store accepts: RSA 2048-8192 bits and ECDSA on P-256,
 * P-384 and P-521, signed with SHA-256/384/512. Ed25519, RSA below 2048 bits, secp256k1 and SHA-1 are rejected.
 */
import "reflect-metadata";
import { webcrypto, createPrivateKey, type KeyObject } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { PkiError } from "./errors.ts";
import type { Algorithm, CryptoKey, CryptoKeyPair, EcdsaParams, EcKeyAlgorithm, EcKeyGenParams, RsaHashedKeyAlgorithm, RsaHashedKeyGenParams } from "./webcrypto.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const KEY_TYPES = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096", "rsa-8192"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** The default key type: ECDSA P-256 handshakes cost about a quarter of RSA-4096's server CPU. */
export const DEFAULT_KEY_TYPE: KeyType = "ecdsa-p256";

const ACCEPTED = "accepted key types: ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, rsa-8192";

/** Checks a user-supplied key type and returns it typed; the error lists the accepted ones. */
export function parseKeyType(value: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  const hint = /ed25519|ed448/i.test(value)
    ? " (Ed25519 and Ed448 are not supported by ALB trust stores)"
    : /secp256k1/i.test(value)
      ? " (secp256k1 is not supported by ALB trust stores)"
      : /rsa-?(512|1024)/i.test(value)
        ? " (RSA keys below 2048 bits are not supported by ALB trust stores)"
        : "";
  throw new PkiError("ERR_PKI_KEY_TYPE", `unsupported key type "${value}"${hint}; ${ACCEPTED}`);
}

/** Returns true for key types whose generation is slow enough to deserve a progress line. */
export function isSlowKeyType(keyType: KeyType): boolean {
  return keyType.startsWith("rsa-") && keyType !== "rsa-2048";
}

function generationAlgorithm(keyType: KeyType): RsaHashedKeyGenParams | EcKeyGenParams {
  if (keyType.startsWith("rsa-")) {
    return { name: "RSASSA-PKCS1-v1_5", modulusLength: Number(keyType.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  }
  const curve = { "ecdsa-p256": "P-256", "ecdsa-p384": "P-384", "ecdsa-p521": "P-521" }[keyType as "ecdsa-p256"];
  return { name: "ECDSA", namedCurve: curve };
}

/** Returns the signature algorithm used with a key: SHA-256 for RSA and P-256, SHA-384 for P-384, SHA-512 for P-521. */
export function signingAlgorithmFor(key: CryptoKey): Algorithm | EcdsaParams {
  if (key.algorithm.name === "ECDSA") {
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve;
    const hashByCurve: Record<string, string> = { "P-384": "SHA-384", "P-521": "SHA-512" };
    return { name: "ECDSA", hash: hashByCurve[curve] ?? "SHA-256" } as EcdsaParams;
  }
  return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as Algorithm;
}

/** Generates an extractable key pair of the given type. */
export async function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(generationAlgorithm(keyType), true, ["sign", "verify"])) as CryptoKeyPair;
}

/** Encodes a private key as PKCS#8 PEM ("PRIVATE KEY"), the form Node, OpenSSL and Cloudflare's API read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** Reads a PKCS#8 PEM private key for signing, with the algorithm taken from the key itself. */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (error) {
    throw new PkiError("ERR_PKI_STATE_CORRUPT", `private key cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const der = keyObject.export({ type: "pkcs8", format: "der" });
  const details = keyObject.asymmetricKeyDetails ?? {};
  if (keyObject.asymmetricKeyType === "rsa") {
    return webcrypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
  }
  if (keyObject.asymmetricKeyType === "ec") {
    const curve = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[details.namedCurve ?? ""];
    if (curve === undefined) throw new PkiError("ERR_PKI_KEY_TYPE", `unsupported EC curve "${details.namedCurve}"; ${ACCEPTED}`);
    return webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: curve }, true, ["sign"]);
  }
  throw new PkiError("ERR_PKI_KEY_TYPE", `unsupported key algorithm "${keyObject.asymmetricKeyType}"; ${ACCEPTED}`);
}

/** Describes a certificate's public key as a key type, or explains why the ALB would not accept it. */
export function describePublicKey(certificate: x509.X509Certificate): { keyType: KeyType } | { rejected: string } {
  const algorithm = certificate.publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm & { name: string };
  if (algorithm.name === "RSASSA-PKCS1-v1_5" || algorithm.name === "RSA-PSS" || algorithm.name === "RSA-OAEP") {
    const bits = algorithm.modulusLength;
    if (bits < 2048 || bits > 8192) return { rejected: `RSA ${bits}-bit key (accepted: 2048 to 8192 bits)` };
    const nearest = ([2048, 3072, 4096, 8192].filter((size) => size <= bits).pop() ?? 2048) as 2048;
    return { keyType: `rsa-${nearest}` as KeyType };
  }
  if (algorithm.name === "ECDSA") {
    const byCurve: Record<string, KeyType> = { "P-256": "ecdsa-p256", "P-384": "ecdsa-p384", "P-521": "ecdsa-p521" };
    const keyType = byCurve[algorithm.namedCurve];
    return keyType ? { keyType } : { rejected: `ECDSA key on curve ${algorithm.namedCurve} (accepted: P-256, P-384, P-521)` };
  }
  return { rejected: `${algorithm.name} key (accepted: RSA 2048-8192, ECDSA P-256/P-384/P-521)` };
}
