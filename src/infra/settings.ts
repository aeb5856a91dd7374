/**
 * Pulumi stack config: the environment facts the edgelock config file does not hold (zones, account, network).
 * The program reads them once, at its top; secrets such as cloudflare:apiToken are read by the providers.
 */
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { LoadedConfig } from "../config/index.ts";
import { resolveConfigPath } from "../config/index.ts";
import { InfraError } from "./errors.ts";
import type { StackEnvironment } from "./stack.ts";

/** The project root: the folder of Pulumi.yaml and package.json. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Entry point of the built-in echo function, bundled for `lambda` targets whose handler is "echo". */
export const ECHO_ENTRY_POINT = resolve(PROJECT_ROOT, "src/function/index.ts");

/** Values of the `edgelock:*` stack config keys. */
export interface StackSettings {
  /** `edgelock:configFile`; default edgelock.config.json in the project root. */
  configFile: string;
  /** `edgelock:pkiDir`; default the config's `pki.dir`. */
  pkiDir?: string;
  /** `edgelock:route53ZoneId`, or else `edgelock:route53ZoneName` looked up in Route 53. */
  route53ZoneId?: string;
  route53ZoneName?: string;
  /** `edgelock:cloudflareZoneId`. */
  cloudflareZoneId: string;
  /** `edgelock:cloudflareAccountId`. */
  cloudflareAccountId: string;
  /** `edgelock:vpcId`; default the region's default VPC. */
  vpcId?: string;
  /** `edgelock:subnetIds` (a JSON list); default every subnet of the VPC. */
  subnetIds?: string[];
  /** `edgelock:ipAddressType`: "dualstack" (default) or "ipv4". */
  ipAddressType: "ipv4" | "dualstack";
}

/** Reads the `edgelock:*` keys; throws ERR_INFRA_STACK_CONFIG listing every missing or invalid key with its fix. */
export function readStackSettings(config = new pulumi.Config("edgelock")): StackSettings {
  const problems: string[] = [];
  const required = (key: string, example: string): string => {
    const value = config.get(key);
    if (value === undefined || value === "") problems.push(`edgelock:${key} is not set; run "pulumi config set edgelock:${key} ${example}"`);
    return value ?? "";
  };

  const cloudflareZoneId = required("cloudflareZoneId", "<zone id from the Cloudflare dashboard>");
  const cloudflareAccountId = required("cloudflareAccountId", "<account id from the Cloudflare dashboard>");
  const route53ZoneId = config.get("route53ZoneId");
  const route53ZoneName = config.get("route53ZoneName");
  if (route53ZoneId === undefined && route53ZoneName === undefined) {
    problems.push('neither edgelock:route53ZoneId nor edgelock:route53ZoneName is set; run "pulumi config set edgelock:route53ZoneName example.com"');
  }

  const ipAddressType = config.get("ipAddressType") ?? "dualstack";
  if (ipAddressType !== "ipv4" && ipAddressType !== "dualstack") problems.push(`edgelock:ipAddressType must be "ipv4" or "dualstack" (got "${ipAddressType}")`);

  let subnetIds: string[] | undefined;
  try {
    subnetIds = config.getObject<string[]>("subnetIds");
    if (subnetIds !== undefined && (!Array.isArray(subnetIds) || subnetIds.some((id) => typeof id !== "string"))) {
      problems.push('edgelock:subnetIds must be a JSON list of subnet ids; run "pulumi config set --path \'edgelock:subnetIds[0]\' subnet-…"');
    }
  } catch (error) {
    problems.push(`edgelock:subnetIds is not valid JSON (${(error as Error).message})`);
  }

  if (problems.length > 0) {
    throw new InfraError("ERR_INFRA_STACK_CONFIG", `Pulumi stack config is incomplete (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`, problems);
  }

  const configFile = config.get("configFile") ?? "edgelock.config.json";
  return {
    configFile: isAbsolute(configFile) ? configFile : resolve(PROJECT_ROOT, configFile),
    ...(config.get("pkiDir") === undefined ? {} : { pkiDir: resolve(PROJECT_ROOT, config.get("pkiDir") as string) }),
    ...(route53ZoneId === undefined ? {} : { route53ZoneId }),
    ...(route53ZoneName === undefined ? {} : { route53ZoneName }),
    cloudflareZoneId,
    cloudflareAccountId,
    ...(config.get("vpcId") === undefined ? {} : { vpcId: config.get("vpcId") as string }),
    ...(subnetIds === undefined ? {} : { subnetIds }),
    ipAddressType: ipAddressType as "ipv4" | "dualstack",
  };
}

/** Turns the settings into the stack's environment, looking up the zone, default VPC and subnets where not given. */
export function resolveEnvironment(settings: StackSettings): StackEnvironment {
  const route53ZoneId = settings.route53ZoneId ?? aws.route53.getZoneOutput({ name: settings.route53ZoneName as string, privateZone: false }).zoneId;
  const vpcId = settings.vpcId ?? aws.ec2.getVpcOutput({ default: true }).id;
  const subnetIds = settings.subnetIds ?? aws.ec2.getSubnetsOutput({ filters: [{ name: "vpc-id", values: [vpcId] }] }).ids;
  return {
    route53ZoneId,
    cloudflareZoneId: settings.cloudflareZoneId,
    cloudflareAccountId: settings.cloudflareAccountId,
    vpcId,
    subnetIds,
    ipAddressType: settings.ipAddressType,
  };
}

/** Returns the module to bundle for each `lambda` target: the echo function, or the configured path. */
export function functionEntryPoints(loaded: LoadedConfig): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const [name, target] of Object.entries(loaded.config.targets)) {
    if (target.type !== "lambda") continue;
    entries[name] = target.handler === "echo" ? ECHO_ENTRY_POINT : resolveConfigPath(loaded, target.handler);
  }
  return entries;
}
