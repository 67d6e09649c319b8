/** What `policy:check` prints for a set of stack checks, and its exit code. Pure. */
import type { CheckResult, Timings, Violation } from "./check";

export interface Totals {
    resources: number;
    policies: number;
    mandatory: number;
    advisory: number;
}

export function totals(results: CheckResult[]): Totals {
    const violations = results.flatMap((result) => result.violations);
    return {
        resources: results.reduce((sum, result) => sum + result.resources, 0),
        policies: new Set(results.flatMap((result) => result.policies.map((policy) => policy.name))).size,
        mandatory: violations.filter((v) => v.enforcementLevel === "mandatory").length,
        advisory: violations.filter((v) => v.enforcementLevel === "advisory").length,
    };
}

/** 1 when any violation is mandatory, else 0. */
export function exitCodeOf(results: CheckResult[]): 0 | 1 {
    return results.some((result) => result.violations.some((v) => v.enforcementLevel === "mandatory")) ? 1 : 0;
}

/** `--json`: one line per violation. */
export function jsonLines(results: CheckResult[]): string {
    return results
        .flatMap((result) => result.violations)
        .map((v) => `${JSON.stringify({ policy: v.policy, urn: v.urn, name: v.name, enforcementLevel: v.enforcementLevel, message: v.message })}\n`)
        .join("");
}

function target(v: Violation): string {
    if (v.urn === "") return "(stack)";
    return v.type === "" ? v.name : `${v.name} (${v.type})`;
}

/** The readable report: per stack a header, each violation and remediation, then the totals line. */
export function humanReport(results: CheckResult[]): string {
    const lines: string[] = [];
    for (const result of results) {
        lines.push(`stack ${result.stack} (project ${result.project}): ${result.resources} resources, policy pack ${result.pack.name}@${result.pack.version}`);
        for (const v of result.violations) {
            lines.push(`  ${v.enforcementLevel.padEnd(9)} ${v.policy}: ${target(v)}`);
            for (const line of v.message.split("\n")) if (line.trim() !== "") lines.push(`      ${line}`);
        }
        for (const r of result.remediations) lines.push(`  ${"remediated".padEnd(9)} ${r.policy}: ${r.name}`);
    }
    const t = totals(results);
    lines.push(`${t.resources} resources, ${t.policies} policies, ${t.mandatory} mandatory violations, ${t.advisory} advisory`);
    return `${lines.join("\n")}\n`;
}

export function timingLine(stack: string, t: Timings): string {
    const p = t.perResource;
    return (
        `policy:check timings stack=${stack}: startup ${t.startupMs} ms, setup ${t.setupMs} ms, ` +
        `resources ${t.resourcesMs} ms (${p.count} at ${t.resourcesPerSecond}/s; each mean ${p.meanMs} p50 ${p.p50Ms} p95 ${p.p95Ms} max ${p.maxMs} ms), ` +
        `AnalyzeStack ${t.analyzeStackMs} ms (+${t.analyzeStackBuildMs} ms to build), shutdown ${t.shutdownMs} ms, total ${t.totalMs} ms\n`
    );
}
