/** The policy engine: pure functions, no I/O. */
export { compileApplications, deriveAud, normalizeEmail, type HostMap } from "./compile.ts";
export { matchApplication } from "./match.ts";
export { evaluatePolicies, couldEmailBeAllowed } from "./evaluate.ts";
export { parseDomainPattern, normalizeRequestHost, normalizeRequestPath, globMatches } from "./domain-pattern.ts";
export { parseAddress, parseCidr, cidrContains, type ParsedAddress, type CidrBlock } from "./ip.ts";
export type {
  CompiledApplication,
  CompiledPolicy,
  CompiledGroup,
  CookieOptions,
  DomainPattern,
  EmailMatching,
  PolicyContext,
  PolicyDecisionType,
  PolicyPhase,
  PolicyResult,
} from "./types.ts";
