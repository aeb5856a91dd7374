/** Shared test fixtures: temporary folders with cleanup, and certificates made by OpenSSL for odd algorithms. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { TestContext } from "node:test";

/** Creates a temporary folder that is removed when the test ends. */
export function temporaryFolder(t: TestContext, prefix = "edgelock-pki-"): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** Runs openssl and returns its standard output; throws with standard error on a non-zero exit. */
export function openssl(args: string[], options: { cwd?: string } = {}): string {
  return execFileSync("openssl", args, { cwd: options.cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs openssl and returns its exit status and combined output, without throwing. */
export function opensslStatus(args: string[]): { status: number; output: string } {
  try {
    return { status: 0, output: execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: `${failed.stdout}${failed.stderr}` };
  }
}

/**
 * Makes a self-signed CA certificate with OpenSSL, for algorithms our own PKI refuses to create.
 * `keyArgs` are `openssl req -newkey` arguments such as ["ed25519"] or ["rsa:1024"].
 */
export function opensslSelfSigned(folder: string, name: string, keyArgs: string[], extraArgs: string[] = []): string {
  const certificate = join(folder, `${name}.pem`);
  openssl([
    "req", "-x509", "-newkey", ...keyArgs, "-nodes", "-keyout", join(folder, `${name}.key`), "-out", certificate,
    "-subj", `/CN=${name}`, "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", ...extraArgs,
  ]);
  return readFileSync(certificate, "utf8");
}

/**
 * Returns every file and folder under `folder` with its mode and bytes, to prove a failed command changed
 * nothing. A missing folder gives an empty map.
 */
export function snapshotFolder(folder: string): Map<string, string> {
  const entries = new Map<string, string>();
  if (!existsSync(folder)) return entries;

  const walk = (path: string): void => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      const stats = statSync(full);
      const mode = (stats.mode & 0o777).toString(8);
      if (stats.isDirectory()) {
        entries.set(`${relative(folder, full)}/`, mode);
        walk(full);
      } else {
        entries.set(relative(folder, full), `${mode} ${readFileSync(full).toString("base64")}`);
      }
    }
  };
  walk(folder);
  return entries;
}

/** Returns the permission bits of a file, such as 0o600. */
export function fileMode(path: string): number {
  return statSync(path).mode & 0o777;
}
