/**
 * Chromium for the end-to-end tests, driven with playwright-core. Chromium cannot be given a CA file, and a fresh
 * NSS database would need certutil from libnss3-tools. So the browser trusts the edge by its key instead: the
 * flag --ignore-certificate-errors-spki-list accepts a chain that contains a certificate whose public key hash is
 * listed, and HTTPS errors stay fatal for every other certificate.
 */
import { createHash, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/** The Debian package's Chromium, which .ci/run installs. */
export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or false when they can. */
export const chromiumMissing: string | false = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM}; install the Debian package "chromium" (.ci/run does)`;

/** Folder for screenshots, git-ignored. */
export const RESULTS_DIR = fileURLToPath(new URL("../../test-results/", import.meta.url));

/** Returns the base64 SHA-256 of a certificate's SubjectPublicKeyInfo, the form Chromium's SPKI list expects. */
export function spkiHash(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/** Launches headless Chromium that resolves *.localhost to 127.0.0.1 and trusts the given server certificates. */
export function launchChromium(trustedCertificatePems: string[]): Promise<Browser> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP *.localhost 127.0.0.1",
      `--ignore-certificate-errors-spki-list=${trustedCertificatePems.map(spkiHash).join(",")}`,
    ],
  });
}
