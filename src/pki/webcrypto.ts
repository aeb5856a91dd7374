/**
 * WebCrypto types under short names. The tsconfig has no DOM library, so the global `CryptoKey` and friends do
 * not exist, and Node declares them in the `webcrypto` namespace of node:crypto instead.
 */
import type { webcrypto } from "node:crypto";

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type Algorithm = webcrypto.Algorithm;
export type EcdsaParams = webcrypto.EcdsaParams;
export type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;
export type EcKeyGenParams = webcrypto.EcKeyGenParams;
export type RsaHashedKeyAlgorithm = webcrypto.RsaHashedKeyAlgorithm;
export type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
