/** Builders shared by the Access tests: configurations parsed by the real schema, then compiled. */
import { defaultConfigInput, parseConfig, type EdgelockConfigInput } from "../../src/config/index.ts";
import { compileApplications, type CompiledApplication } from "../../src/access/index.ts";

type AccessInput = EdgelockConfigInput["access"];
export type PolicyInput = AccessInput["applications"][number]["policies"][number];

/** The fixed instant the token tests run at. */
export const NOW = new Date("2026-03-01T09:00:00.000Z");

/** Compiles one application named "app" on app.example.com with these policies. */
export function compileApp(
  policies: PolicyInput[],
  options: { emailMatching?: AccessInput["emailMatching"]; serviceTokens?: string[] } = {},
): CompiledApplication {
  const input: EdgelockConfigInput = {
    ...defaultConfigInput(),
    access: {
      teamName: "acme",
      applications: [{ name: "app", policies }],
      serviceTokens: (options.serviceTokens ?? []).map((name) => ({ name })),
      ...(options.emailMatching === undefined ? {} : { emailMatching: options.emailMatching }),
    },
  };
  const [app] = compileApplications(parseConfig(input));
  if (app === undefined) throw new Error("compileApplications returned no application");
  return app;
}

/** Compiles applications that differ only in name and domain, each with one allow-everyone policy. */
export function compileDomains(domains: Record<string, string>): CompiledApplication[] {
  const input: EdgelockConfigInput = {
    ...defaultConfigInput(),
    access: {
      teamName: "acme",
      applications: Object.entries(domains).map(([name, domain]) => ({
        name,
        domain,
        policies: [{ name: "everyone", decision: "allow", include: [{ everyone: true }] }],
      })),
    },
  };
  return compileApplications(parseConfig(input));
}
