/** Finds the Access application that covers a request: the most specific match wins, as in Cloudflare Access. */
import { hostMatches, normalizeRequestHost, normalizeRequestPath, pathMatches, specificity } from "./domain-pattern.ts";
import type { CompiledApplication } from "./types.ts";

/**
 * Returns the most specific application whose domain covers `host` and `path`, or undefined when none does (the
 * edge then proxies without Access). The port of `host` and the query of `path` are ignored. On equal specificity
 * the application listed first in the configuration wins.
 */
export function matchApplication(apps: readonly CompiledApplication[], host: string, path: string): CompiledApplication | undefined {
  const requestHost = normalizeRequestHost(host);
  const requestPath = normalizeRequestPath(path);

  let best: CompiledApplication | undefined;
  let bestRank: number[] = [];
  for (const app of apps) {
    if (!hostMatches(app.pattern, requestHost) || !pathMatches(app.pattern, requestPath)) continue;
    const rank = specificity(app.pattern);
    if (best === undefined || compareRanks(rank, bestRank) > 0) {
      best = app;
      bestRank = rank;
    }
  }
  return best;
}

function compareRanks(left: readonly number[], right: readonly number[]): number {
  for (let index = 0; index < left.length; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
