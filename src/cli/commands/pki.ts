/**
 * `edgelock pki`: the root CA, the origin-pull client certificate, server certificates for the local listeners,
 * revocation, the CRL and the ALB trust-store bundle, all kept in one state folder. Private keys are written to
 * files with mode 0600 and never printed.
 */
import { relative } from "node:path";
import type { ParseArgsConfig } from "node:util";
import { DEFAULT_PKI_DIR, openPkiStore, type PkiStore } from "../../pki/store.ts";
import { EXPIRY_WARNING_DAYS, type CaInfo, type CertificateInfo } from "../../pki/info.ts";
import { parseFlags, UsageError, type Command, type CommandIo } from "../command.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

const COMMON_OPTIONS = {
  dir: { type: "string" },
  json: { type: "boolean" },
} satisfies Options;

const COMMON_HELP = [
  `  --dir DIR         PKI state folder (default ${DEFAULT_PKI_DIR})`,
  "  --json            print the result as JSON on standard output",
];

const KEY_HELP = "  --key-type TYPE   ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096 or rsa-8192";

interface Action {
  summary: string;
  usage: string;
  help: string[];
  options: Options;
  run(store: PkiStore, values: Record<string, string | boolean | string[] | undefined>, positionals: string[], io: CommandIo): Promise<number>;
}

const actions: Record<string, Action> = {
  init: {
    summary: "create the root CA, an empty CRL and the trust-store bundle",
    usage: "edgelock pki init [--cn NAME] [--org ORG] [--ou UNIT] [--locality CITY] [--state STATE] [--country CC] [--key-type TYPE] [--days N] [--force]",
    help: [
      '  --cn NAME         common name of the CA (default "edgelock root CA")',
      "  --org, --ou, --locality, --state, --country CC   other subject fields; --country is a two-letter code",
      KEY_HELP,
      "  --days N          validity in days (default 1825, 5 years)",
      "  --force           replace an existing CA; the old one is kept under ca/retired/<serial>/",
    ],
    options: {
      cn: { type: "string" },
      org: { type: "string" },
      ou: { type: "string" },
      locality: { type: "string" },
      state: { type: "string" },
      country: { type: "string" },
      "key-type": { type: "string" },
      days: { type: "string" },
      force: { type: "boolean" },
    },
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 0, "init");
      const ca = await store.init({
        subject: {
          commonName: stringValue(values.cn) ?? "edgelock root CA",
          organization: stringValue(values.org),
          organizationalUnit: stringValue(values.ou),
          locality: stringValue(values.locality),
          state: stringValue(values.state),
          country: stringValue(values.country),
        },
        keyType: stringValue(values["key-type"]),
        validityDays: parseDays(values.days),
        force: values.force === true,
      });

      if (values.json === true) {
        io.out(JSON.stringify({ ca, paths: { caCert: store.paths.caCert, caKey: store.paths.caKey, crl: store.paths.crl, bundle: store.paths.bundle } }, null, 2));
        return 0;
      }
      io.out(`Created root CA "${ca.subject}" (serial ${ca.serial}, ${ca.keyType}, valid until ${ca.notAfter}).`);
      io.out(`  certificate  ${display(store.paths.caCert)}`);
      io.out(`  private key  ${display(store.paths.caKey)} (mode 0600; keep it offline if you can)`);
      io.out(`  CRL          ${display(store.paths.crl)}`);
      io.out(`  bundle       ${display(store.paths.bundle)} (upload to the ALB trust store)`);
      return 0;
    },
  },

  issue: {
    summary: "issue a client certificate (origin pull) or a server certificate",
    usage: "edgelock pki issue client NAME | edgelock pki issue server NAME --dns HOST... --ip ADDRESS... [--key-type TYPE] [--days N] [--force]",
    help: [
      "  client NAME       CA:FALSE, digitalSignature, extended key usage clientAuth (for Cloudflare origin pulls)",
      "  server NAME       CA:FALSE, extended key usage serverAuth, with the --dns and --ip names as SANs",
      '  NAME              lowercase letters, digits, "." and "-", such as "origin-pull"',
      "  --dns HOST        DNS name for the server certificate; repeat for more",
      "  --ip ADDRESS      IP address for the server certificate; repeat for more",
      KEY_HELP,
      "  --days N          validity in days (default 730, 2 years)",
      "  --force           replace a certificate of the same name that is not revoked",
    ],
    options: {
      dns: { type: "string", multiple: true },
      ip: { type: "string", multiple: true },
      "key-type": { type: "string" },
      days: { type: "string" },
      force: { type: "boolean" },
    },
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 2, "issue");
      const [profile, name] = positionals as [string, string];
      if (profile !== "client" && profile !== "server") {
        throw new UsageError(`unknown certificate profile "${profile}"; use "edgelock pki issue client NAME" or "edgelock pki issue server NAME --dns HOST"`);
      }
      const info = await store.issue(profile, name, {
        dnsNames: values.dns as string[] | undefined,
        ipAddresses: values.ip as string[] | undefined,
        keyType: stringValue(values["key-type"]),
        validityDays: parseDays(values.days),
        force: values.force === true,
      });

      const certificatePath = store.paths.certificate(name);
      const keyPath = store.paths.key(name);
      if (values.json === true) {
        io.out(JSON.stringify({ ...info, certificatePath, keyPath }, null, 2));
        return 0;
      }
      const names = [...info.dnsNames, ...info.ipAddresses];
      io.out(`Issued ${profile} certificate "${name}" (serial ${info.serial}, ${info.keyType}, valid until ${info.notAfter}).`);
      if (names.length > 0) io.out(`  names        ${names.join(", ")}`);
      io.out(`  certificate  ${display(certificatePath)}`);
      io.out(`  private key  ${display(keyPath)} (mode 0600)`);
      return 0;
    },
  },

  revoke: {
    summary: "revoke a certificate by name or serial and rewrite the CRL",
    usage: "edgelock pki revoke NAME|SERIAL",
    help: ["  NAME|SERIAL       certificate name, or its serial in hex as `pki list` prints it (case and colons ignored)"],
    options: {},
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 1, "revoke");
      const info = await store.revoke(positionals[0] as string);

      if (values.json === true) {
        io.out(JSON.stringify({ ...info, crlPath: store.paths.crl }, null, 2));
        return 0;
      }
      io.out(`Revoked "${info.name}" (serial ${info.serial}) at ${info.revokedAt}.`);
      io.out(`  CRL          ${display(store.paths.crl)} (upload it to the ALB trust store as a revocation list)`);
      return 0;
    },
  },

  crl: {
    summary: "write a new CRL with a higher CRL number",
    usage: "edgelock pki crl [--days N]",
    help: ["  --days N          days until nextUpdate (default 30); write a new CRL before then"],
    options: { days: { type: "string" } },
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 0, "crl");
      const crl = await store.writeCrl({ nextUpdateDays: parseDays(values.days) });

      if (values.json === true) {
        io.out(JSON.stringify({ path: crl.path, number: crl.number, pem: crl.pem }, null, 2));
        return 0;
      }
      io.out(`Wrote CRL number ${crl.number} to ${display(crl.path)}.`);
      return 0;
    },
  },

  bundle: {
    summary: "write the CA bundle for the ALB trust store",
    usage: "edgelock pki bundle [--add FILE]...",
    help: [
      "  --add FILE        also trust the CA certificates in FILE (PEM), such as a new CA during rotation; repeat for more",
      "                    Without --add the bundle holds only the current CA, so pass every extra CA on each run.",
    ],
    options: { add: { type: "string", multiple: true } },
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 0, "bundle");
      const bundle = await store.writeBundle({ extraCaFiles: values.add as string[] | undefined });
      for (const subject of bundle.dropped) {
        io.err(`warning: the new bundle no longer contains "${subject}"; pass its file with --add to keep trusting it`);
      }

      const count = bundle.pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
      if (values.json === true) {
        io.out(JSON.stringify({ path: bundle.path, certificates: count, dropped: bundle.dropped, pem: bundle.pem }, null, 2));
        return 0;
      }
      io.out(`Wrote ${count} CA certificate${count === 1 ? "" : "s"} to ${display(bundle.path)}.`);
      return 0;
    },
  },

  list: {
    summary: "list the CA and every certificate issued, with days left; exit 1 if one in use has expired",
    usage: "edgelock pki list",
    help: [
      `  Warns on standard error about certificates in use that expire within ${EXPIRY_WARNING_DAYS} days. Exits with`,
      "  code 1 when the CA or a certificate in use (neither revoked nor replaced) has expired.",
    ],
    options: {},
    async run(store, values, positionals, io) {
      expectPositionals(positionals, 0, "list");
      const now = new Date();
      const ca = store.ca(now);
      const certificates = store.list(now);

      if (values.json === true) io.out(JSON.stringify({ ca, certificates }, null, 2));
      else io.out(formatTable(ca, certificates));

      const inUse = certificates.filter((certificate) => certificate.inUse);
      const checked: { label: string; status: string; daysLeft: number; notAfter: string }[] = [
        { label: "root CA", ...ca },
        ...inUse.map((certificate) => ({ label: `certificate "${certificate.name}"`, ...certificate })),
      ];
      for (const entry of checked) {
        if (entry.status === "expired") io.err(`error: ${entry.label} expired on ${entry.notAfter}`);
        if (entry.status === "expiring") io.err(`warning: ${entry.label} expires on ${entry.notAfter} (in ${entry.daysLeft} days)`);
      }
      return checked.some((entry) => entry.status === "expired") ? 1 : 0;
    },
  },
};

function helpText(): string {
  const lines = ["Usage: edgelock pki <action> [options]", "", "Actions:"];
  for (const [name, action] of Object.entries(actions)) lines.push(`  ${name.padEnd(8)} ${action.summary}`);
  lines.push("", "Options of every action:", ...COMMON_HELP, "", 'Run "edgelock pki <action> --help" for the options of an action.');
  return lines.join("\n");
}

function actionHelp(name: string, action: Action): string {
  return [`Usage: ${action.usage}`, "", `${action.summary[0]?.toUpperCase()}${action.summary.slice(1)}.`, "", ...action.help, ...COMMON_HELP].join("\n");
}

export const pkiCommand: Command = {
  summary: "manage the root CA, client and server certificates, the CRL and the trust-store bundle",
  help: helpText(),
  helpFor(args) {
    const name = args.find((arg) => !arg.startsWith("-"));
    const action = name === undefined ? undefined : actions[name];
    return action === undefined ? helpText() : actionHelp(name as string, action);
  },
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError(`missing action; use one of ${Object.keys(actions).join(", ")}. See "edgelock pki --help".`);
    const action = actions[name];
    if (action === undefined) throw new UsageError(`unknown action "${name}"; use one of ${Object.keys(actions).join(", ")}. See "edgelock pki --help".`);

    const { values, positionals } = parseFlags(rest, { ...COMMON_OPTIONS, ...action.options }, `pki ${name}`);
    const store = openPkiStore(stringValue(values.dir) ?? DEFAULT_PKI_DIR, { onProgress: (message) => io.err(message) });
    return action.run(store, values, positionals, io);
  },
};

function expectPositionals(positionals: string[], count: number, action: string): void {
  if (positionals.length === count) return;
  const usage = actions[action]?.usage ?? `edgelock pki ${action}`;
  const got = positionals.length === 0 ? "none" : positionals.map((value) => `"${value}"`).join(" ");
  throw new UsageError(`expected ${count} argument${count === 1 ? "" : "s"} (got ${got}). Usage: ${usage}`);
}

function stringValue(value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function parseDays(value: string | boolean | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--days must be a whole number of days, such as 30 (got "${value}")`);
  return Number(value);
}

/** Shows a path relative to the working folder when it is inside it. */
function display(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith("..") || shown === "" ? path : shown;
}

function formatTable(ca: CaInfo, certificates: CertificateInfo[]): string {
  const header = ["NAME", "PROFILE", "SERIAL", "SUBJECT", "ISSUER", "NOT BEFORE", "NOT AFTER", "DAYS LEFT", "STATUS"];
  const day = (iso: string) => iso.slice(0, 10);
  const rows = [
    ["(root CA)", "ca", ca.serial, ca.subject, ca.subject, day(ca.notBefore), day(ca.notAfter), String(ca.daysLeft), ca.status],
    ...certificates.map((certificate) => [
      certificate.name,
      certificate.profile,
      certificate.serial,
      certificate.subject,
      certificate.issuer,
      day(certificate.notBefore),
      day(certificate.notAfter),
      String(certificate.daysLeft),
      certificate.revokedAt === undefined ? certificate.status : `revoked ${day(certificate.revokedAt)}`,
    ]),
  ];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()).join("\n");
}
