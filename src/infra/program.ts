/**
 * The Pulumi program (`main` in Pulumi.yaml). It reads the stack config and the edgelock config file once,
 * checks and reads the PKI files and bundles the Lambda code. Only then does it declare the stack, so a missing
 * file or a bad setting stops `pulumi up` before any resource changes.
 */
import "reflect-metadata";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, resolvePkiDir } from "../config/index.ts";
import { bundleHandler } from "./aws/bundle.ts";
import { InfraError } from "./errors.ts";
import { inspectPkiFiles } from "./pki-files.ts";
import { functionEntryPoints, readStackSettings, resolveEnvironment } from "./settings.ts";
import { EdgelockStack } from "./stack.ts";

const settings = readStackSettings();
const loaded = loadConfig(settings.configFile);
const { config } = loaded;

const pkiDir = settings.pkiDir ?? resolvePkiDir(loaded);
const inspection = inspectPkiFiles(pkiDir, config.pki.originPullCertificate);
if (inspection.files === undefined) {
  throw new InfraError("ERR_INFRA_PKI_FILE", `PKI files are missing in ${pkiDir}:\n  ${inspection.problems.join("\n  ")}`, inspection.problems);
}
for (const problem of inspection.problems) pulumi.log.warn(problem);

const functionCode: Record<string, pulumi.asset.Archive> = {};
for (const [target, entryPoint] of Object.entries(functionEntryPoints(loaded))) {
  functionCode[target] = await bundleHandler(entryPoint);
}

const stack = new EdgelockStack(config.name, {
  config,
  environment: resolveEnvironment(settings),
  pki: inspection.files,
  functionCode,
});

export const appUrl = stack.appUrl;
export const albDnsName = stack.albDnsName;
export const trustStoreArn = stack.trustStoreArn;
export const accessAuds = stack.accessAuds;
export const serviceTokenClientIds = stack.serviceTokenClientIds;
export const serviceTokenClientSecrets = stack.serviceTokenClientSecrets;
export const logsBucketName = stack.logsBucketName;
