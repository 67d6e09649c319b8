/**
 * The drill's human-readable output: a timeline a responder would paste into a ticket. Pure: it formats a
 * DrillReport and nothing else.
 */
import type { DrillReport } from "./run";

const ms = (n: number) => `+${String(Math.round(n)).padStart(6)} ms`;

/** Render the report as lines of text. */
export function formatTimeline(report: DrillReport): string {
    const f = report.finding;
    const lines: string[] = [];
    lines.push(`aws-dfir drill: ${f.findingType ?? "unknown finding type"} on ${f.instanceId ?? "no instance"}`);
    lines.push(`  finding ${f.findingId ?? "-"}, severity ${f.severity ?? "-"}, account ${f.accountId ?? "-"}, region ${f.region ?? "-"}`);
    lines.push(`  ${accountLine(report.account)}`);
    lines.push(`  scenario: ${report.scenario ?? "none"}; ${report.latencyMs} ms per AWS call`);
    lines.push("");

    type Row = { at: number; text: string };
    const rows: Row[] = [];
    report.executions.forEach((execution, i) => {
        const label = report.executions.length > 1 ? `[${i + 1}] ` : "";
        for (const s of execution.states) {
            if (s.type === "Task" || s.type === "Parallel" || s.type === "Fail" || s.type === "Succeed") {
                rows.push({ at: s.atMs, text: `${label}> ${s.name}` });
            }
        }
    });
    for (const c of report.calls) {
        rows.push({ at: c.atMs, text: `    ${c.ok ? "ok  " : "FAIL"} ${c.action}${c.error ? `  (${c.error})` : ""}` });
    }
    for (const n of report.notifications) rows.push({ at: n.atMs, text: `    SNS  ${n.subject ?? "(no subject)"}` });
    rows.sort((a, b) => a.at - b.at);
    for (const r of rows) lines.push(`${ms(r.at)}  ${r.text}`);
    lines.push("");

    lines.push(`Result: ${report.status}: ${report.reason}`);
    if (report.caseId) lines.push(`Case: ${report.caseId}`);
    const c = report.containment;
    if (c) {
        const slots = c.firstChangeSlot === null ? "" : ` (first change in call slot ${c.firstChangeSlot}, isolated in slot ${c.isolatedSlot ?? "-"})`;
        const state = !c.isolated ? "NOT isolated" : c.isolatedAtMs === null ? "isolated (already, before this run)" : `isolated at ${ms(c.isolatedAtMs).trim()}${slots}`;
        lines.push(`Containment: ${state}`);
        for (const eni of c.networkInterfaces) lines.push(`  ${eni.networkInterfaceId}: ${eni.groupIds.join(", ")}`);
        lines.push(`  protections: termination ${on(c.protections.disableApiTermination)}, stop ${on(c.protections.disableApiStop)}, shutdown behaviour ${c.protections.shutdownBehavior}`);
        lines.push(`  profile: ${c.profileArn ?? "none"}`);
        if (c.autoScaling) lines.push(`  auto scaling group ${c.autoScaling.groupName}: ${c.autoScaling.inGroup ? "STILL IN GROUP" : "detached"}`);
        for (const t of c.targetGroups) lines.push(`  target group ${t.name}: ${t.state}`);
        const tags = Object.entries(c.tags).map(([k, v]) => `${k}=${v}`).join(", ");
        lines.push(`  tags: ${tags || "none"}`);
        // The simulator's packet-by-packet verdict on the instance's established flows, as they stand at the end.
        for (const f of c.flows) {
            const what = `${f.protocol} ${f.local} -> ${f.remote} via ${f.path}${f.tracked ? (f.automaticallyTracked ? " (automatically tracked)" : " (tracked)") : " (untracked)"}`;
            lines.push(`  flow ${what}: ${f.open ? (f.forensic ? "open (the forensic channel)" : "STILL OPEN") : `cut (${f.blockedBy ?? "blocked"})`}`);
        }
        lines.push(`  open flows: ${c.openFlows.length === 0 ? "none" : c.openFlows.map((f) => f.label).join("; ")}`);
        if (!c.forensicChannel.open) lines.push(`  forensic channel: CUT (${c.forensicChannel.blockedBy ?? "blocked"})`);
    }
    const e = report.evidence;
    if (e.snapshots.length > 0) lines.push(`Disk: ${e.snapshots.map((s) => `${s.snapshotId} (${s.volumeId}, ${s.state})`).join(", ")}`);
    if (e.hubCopies.length > 0) {
        lines.push(`Disk in the hub (${e.hubCopies[0].accountId}): ${e.hubCopies.map((c) => `${c.snapshotId} (copy of ${c.sourceSnapshotId} via ${c.viaSnapshotId}, ${c.state})`).join(", ")}`);
        const keys = [...new Set(e.hubCopies.map((c) => c.kmsKeyId ?? "unencrypted"))];
        lines.push(`  key: ${keys.join(", ")}`);
    }
    if (e.hubCopyMissing) lines.push(`Disk copy to the hub: MISSING (${e.hubCopyMissing}); the member snapshots above are the disk evidence`);
    if (e.memory) lines.push(`Memory: s3://${e.memory.bucket}/${e.memory.key}, ${e.memory.bytes} bytes, sha256 ${e.memory.sha256}`);
    else if (report.containment) lines.push(`Memory: missing${e.memoryMissing ? ` (${e.memoryMissing})` : ""}`);
    if (e.metadata.length > 0) lines.push(`Metadata: ${e.metadata.map((m) => m.key.split("/").pop()).join(", ")}`);
    if (e.manifest) {
        lines.push(`Manifest: s3://${e.manifest.bucket}/${e.manifest.key}`);
        lines.push(`  sha256 ${e.manifest.sha256}, Object Lock ${e.manifest.mode} until ${e.manifest.retainUntil}`);
    }
    // The last line says how it ended, where a reader (or `tail -1`) looks first.
    lines.push(`Ended: ${report.status}`);
    return `${lines.join("\n")}\n`;
}

/**
 * `account: 222222222222 (member, through arn:aws:iam::222222222222:role/dfir-responder); hub 210987654321; role assumed (1 AssumeRole)`,
 * or `account: 210987654321 (the hub's own account: same-account response, no role assumed)`.
 */
export function accountLine(a: DrillReport["account"]): string {
    const replaced = a.findingAccountId !== undefined ? `; the finding said ${JSON.stringify(a.findingAccountId)}` : "";
    if (a.relation === "home" || a.roleArn === null) return `account: ${a.accountId} (the hub's own account: same-account response, no role assumed)${replaced}`;
    const failed = a.assumeRole.find((c) => !c.ok);
    const succeeded = a.assumeRole.filter((c) => c.ok).length;
    const outcome = succeeded > 0
        ? `role assumed (${succeeded} AssumeRole${failed ? `, after ${a.assumeRole.length - succeeded} failed` : ""})`
        : failed
          ? `role NOT assumed (sts:AssumeRole ${failed.error?.split(":")[0] ?? "failed"})`
          : "role not assumed in this run (no AWS call needed it)";
    return `account: ${a.accountId} (member, through ${a.roleArn}); hub ${a.homeAccountId}; ${outcome}${replaced}`;
}

function on(flag: boolean): string {
    return flag ? "protected" : "NOT protected";
}
