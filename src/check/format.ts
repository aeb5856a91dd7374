/** Text and JSON output of `edgelock check`. */
import type { CheckReport } from "./types.ts";

/** Returns one line per check, then the summary line. */
export function formatReport(report: CheckReport): string[] {
  const lines = report.checks.map((check) => `${check.status.toUpperCase().padEnd(4)}  ${check.id}  ${check.title}: ${check.reason}`);
  const { pass, warn, fail, skip } = report.summary;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const verdict = report.ok ? "OK" : "FAILED";
  lines.push(`${verdict}: ${pass} passed, ${plural(warn, "warning")}, ${fail} failed, ${skip} skipped (app ${report.app}, origin ${report.origin}).`);
  return lines;
}

/** Returns the report as indented JSON, the same facts as the text for CI. */
export function formatReportJson(report: CheckReport): string {
  return JSON.stringify(report, null, 2);
}
