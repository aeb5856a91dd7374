/** Signing keys, the JWKS document and the claims of the tokens the edge issues, as Cloudflare Access shapes them. */
import type { KeyObject, webcrypto } from "node:crypto";

/** One RSA-2048 signing key of the team domain. */
export interface SigningKey {
  /** Key id: SHA-256 of the DER public key (SubjectPublicKeyInfo), 64 lowercase hex characters. */
  kid: string;
  /** Private key for RS256 signing. */
  privateKey: webcrypto.CryptoKey;
  /** Public key for verification. */
  publicKey: KeyObject;
  /** RSA modulus, base64url, as in the JWK `n`. */
  n: string;
  /** RSA public exponent, base64url, as in the JWK `e` ("AQAB"). */
  e: string;
  /** Self-signed certificate of the key, PEM, as in `public_cert.cert`. */
  certificatePem: string;
  createdAt: Date;
  /** When a rotation replaced this key; undefined for the current key. */
  retiredAt: Date | undefined;
}

/** One JWK of /cdn-cgi/access/certs. */
export interface AccessJwk {
  kid: string;
  kty: "RSA";
  alg: "RS256";
  use: "sig";
  e: string;
  n: string;
}

/** The body of /cdn-cgi/access/certs: JWKs of the current and previous keys, and their certificates. */
export interface AccessJwks {
  keys: AccessJwk[];
  /** The current key's certificate. */
  public_cert: { kid: string; cert: string };
  /** Certificates of every key in `keys`, current first. */
  public_certs: { kid: string; cert: string }[];
}

/** The signing keys of a team domain, persisted in a folder. */
export interface SigningKeyStore {
  /** Folder of the key files. */
  readonly dir: string;
  /** Days a replaced key stays valid after a rotation. */
  readonly graceDays: number;
  /** Returns the key new tokens are signed with. */
  current(): SigningKey;
  /** Returns the current key and every replaced key still inside its grace period, current first. */
  keys(): SigningKey[];
  /** Returns the usable key with this kid, or undefined. */
  find(kid: string): SigningKey | undefined;
  /** Returns the JWKS document for /cdn-cgi/access/certs. */
  jwks(): AccessJwks;
  /**
   * Generates a new current key and keeps the replaced one for `graceDays`, so tokens it signed keep verifying.
   * Writes the folder before returning. `now` defaults to the store's clock.
   */
  rotate(now?: Date): Promise<SigningKey>;
}

/** Claims of an app token after an identity login, in Cloudflare's order. */
export interface AppTokenClaims {
  aud: string[];
  email: string;
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  type: "app";
  identity_nonce: string;
  sub: string;
  country: string;
}

/** Claims of an app token after a service-token login, in Cloudflare's order. */
export interface ServiceAppTokenClaims {
  type: "app";
  aud: string[];
  exp: number;
  iss: string;
  common_name: string;
  iat: number;
  sub: "";
}

/** Claims of the global session token on the team domain. */
export interface OrgTokenClaims {
  aud: string[];
  email: string;
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  type: "org";
  identity_nonce: string;
  sub: string;
  country: string;
}

/** The client-certificate part of a meta token. The local edge gets no visitor certificate, so the fields stay empty. */
export interface MetaMtlsAuth {
  cert_presented: boolean;
  cert_serial: string;
  cert_issuer_dn: string;
  cert_issuer_ski: string;
  auth_status: string;
}

/** Claims of the `meta` token on the login redirect, which binds the login flow to the CF_AppSession cookie. */
export interface MetaTokenClaims {
  type: "meta";
  /** The application AUD, a string here (not an array). */
  aud: string;
  hostname: string;
  /** Original path and query. */
  redirect_url: string;
  /** SHA-256 of the CF_AppSession cookie value, 64 lowercase hex. */
  app_session_hash: string;
  service_token_status: boolean;
  service_token_id: string;
  is_warp: boolean;
  is_gateway: boolean;
  mtls_auth: MetaMtlsAuth;
  auth_status: string;
  iat: number;
  nbf: number;
  /** Not seen in Cloudflare's meta tokens; edgelock adds it so a login link stops working. */
  exp: number;
}
