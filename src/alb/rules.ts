/**
 * Listener rules as the ALB evaluates them (Elastic Load Balancing guide, "Listener rules" and "Rule condition
 * types"): lowest priority first, first match wins, conditions ANDed and values ORed, the default action last.
 * We support host-header, path-pattern, http-header, http-request-method and source-ip; query-string and regex
 * values are not in the configuration schema. Pure functions: nothing here touches the network.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { ListenerRule, RuleAction } from "../config/schema/alb.ts";

/** The request facts rules look at. */
export interface RuleRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Host header (or HTTP/2 :authority), possibly with a port. */
  host: string | undefined;
  headers: readonly [string, string][];
  /** TCP source address of the connection, not X-Forwarded-For. */
  sourceAddress: string;
}

/** The chosen action with the access log's matched_rule_priority (0 for the default action). */
export interface RuleMatch {
  action: RuleAction;
  priority: number;
}

type Predicate = (request: RuleRequest) => boolean;

/** Compiles a wildcard value: "*" matches zero or more characters, "?" exactly one. */
export function wildcardPattern(value: string, caseInsensitive: boolean): RegExp {
  const body = value.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`, caseInsensitive ? "is" : "s");
}

/** Removes the port from a Host value: "app.example.com:443" → "app.example.com", "[::1]:8443" → "::1". */
export function hostWithoutPort(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") === -1 ? undefined : host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon !== -1 && host.indexOf(":") === colon ? host.slice(0, colon) : host;
}

function unmapped(address: string): string {
  return address.toLowerCase().startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function sourceIpPredicate(blocks: string[]): Predicate {
  const list = new BlockList();
  for (const block of blocks) {
    const [network = "", bits] = block.split("/");
    const family = isIPv6(network) ? "ipv6" : "ipv4";
    const hostBits = family === "ipv6" ? 128 : 32;
    list.addSubnet(network, bits === undefined ? hostBits : Number(bits), family);
  }
  return (request) => {
    const address = unmapped(request.sourceAddress);
    return list.check(address, isIPv6(address) ? "ipv6" : "ipv4");
  };
}

function compileConditions(conditions: ListenerRule["conditions"]): Predicate[] {
  const predicates: Predicate[] = [];
  if (conditions.pathPattern !== undefined) {
    const patterns = conditions.pathPattern.map((value) => wildcardPattern(value, false));
    predicates.push((request) => patterns.some((pattern) => pattern.test(request.path)));
  }
  if (conditions.hostHeader !== undefined) {
    const patterns = conditions.hostHeader.map((value) => wildcardPattern(value, true));
    predicates.push((request) => request.host !== undefined && patterns.some((pattern) => pattern.test(hostWithoutPort(request.host as string))));
  }
  for (const header of conditions.httpHeader ?? []) {
    const name = header.name.toLowerCase();
    const patterns = header.values.map((value) => wildcardPattern(value, true));
    predicates.push((request) => request.headers.some(([candidate, value]) => candidate.toLowerCase() === name && patterns.some((pattern) => pattern.test(value))));
  }
  if (conditions.httpRequestMethod !== undefined) {
    const methods = new Set(conditions.httpRequestMethod);
    predicates.push((request) => methods.has(request.method));
  }
  if (conditions.sourceIp !== undefined) predicates.push(sourceIpPredicate(conditions.sourceIp));
  return predicates;
}

/** Compiles the rules once; the returned function picks the action for each request. */
export function compileRules(rules: readonly ListenerRule[], defaultAction: RuleAction): (request: RuleRequest) => RuleMatch {
  const compiled = [...rules]
    .sort((left, right) => left.priority - right.priority)
    .map((rule) => ({ priority: rule.priority, action: rule.action, predicates: compileConditions(rule.conditions) }));

  return (request) => {
    for (const rule of compiled) {
      if (rule.predicates.every((predicate) => predicate(request))) return { action: rule.action, priority: rule.priority };
    }
    return { action: defaultAction, priority: 0 };
  };
}
