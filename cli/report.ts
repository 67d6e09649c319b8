/**
 * How the analyst commands print: tables (cli-table3) for people, one JSON document for scripts, and the
 * verification report as self-contained HTML (no script, no external asset: it opens anywhere, offline).
 */
import Table from "cli-table3";
import { accessText } from "./accessTrail";
import type { AttachResult } from "./attach";
import type { CaseSummary } from "./cases";
import type { PlanResult } from "./plan";
import type { ReleaseResult } from "./release";
import type { VerifyReport } from "./verify";

const dash = (v: string | undefined) => v ?? "-";

/** `dfir cases` as a table. */
export function casesTable(cases: readonly CaseSummary[]): string {
    if (cases.length === 0) return "no cases\n";
    const table = new Table({ head: ["case", "status", "instance", "account / region", "opened", "sealed", "findings", "reason"], style: { head: [], border: [] }, wordWrap: true, colWidths: [null, null, null, null, null, null, null, 48] as never });
    for (const c of cases) {
        table.push([c.caseId, c.releasedAt ? `${c.status}, released` : c.status, dash(c.instanceId), `${dash(c.accountId)} / ${dash(c.region)}`, dash(c.openedAt), dash(c.sealedAt), String(c.findings), dash(c.statusReason)]);
    }
    return `${table.toString()}\n`;
}

const size = (n: number | undefined) => (n === undefined ? "-" : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** `dfir verify` for people: one line per object and snapshot, then the verdict. */
export function verifyText(r: VerifyReport): string {
    const lines = [`case ${r.caseId}: ${r.case.status}${r.manifestStatus && r.manifestStatus !== r.case.status ? ` (manifest says ${r.manifestStatus})` : ""}, instance ${dash(r.target?.instanceId ?? r.case.instanceId)} in ${dash(r.target?.accountId ?? r.case.accountId)} ${dash(r.target?.region ?? r.case.region)}`];
    const table = new Table({ head: ["", "object", "bytes", "sha256", "lock"], style: { head: [], border: [] } });
    for (const o of r.objects) {
        table.push([o.problems.length === 0 ? "ok" : "FAIL", `${o.role}: ${o.key}`, size(o.actualBytes), (o.actualSha256 ?? "-").slice(0, 16), o.lock?.mode ? `${o.lock.mode} until ${o.lock.retainUntil ?? "?"}` : "none"]);
    }
    for (const s of r.snapshots) table.push([s.unchecked ? "n/a" : s.problems.length === 0 ? "ok" : "FAIL", `${s.location === "hub copy" ? `hub copy of ${s.copyOf}` : "snapshot"}: ${s.snapshotId} (${s.volumeId})`, "-", "-", s.unchecked ? "not checked" : `${dash(s.state)}${s.digestMatches === undefined ? "" : s.digestMatches ? ", content digest ok" : ", content digest DIFFERS"}`]);
    if (r.signature) table.push([r.signature.valid ? "ok" : "FAIL", `signature: ${r.signature.key ?? "none"}`, "-", dash(r.signature.algorithm), r.signature.lock?.mode ? `${r.signature.lock.mode} until ${r.signature.lock.retainUntil ?? "?"}` : "none"]);
    lines.push(table.toString());
    if (r.access) lines.push(...accessText(r.access));
    for (const w of r.warnings) lines.push(`note: ${w}`);
    for (const p of r.problems) lines.push(`MISMATCH: ${p}`);
    lines.push(r.ok ? `VERIFIED: ${r.objects.length} objects and ${r.snapshots.filter((s) => !s.unchecked).length} snapshots match the sealed manifest, all under COMPLIANCE lock` : `NOT VERIFIED: ${r.problems.length} problem(s)`);
    return `${lines.join("\n")}\n`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);

/** The verification report as one self-contained HTML page. Every value is escaped. */
export function verifyHtml(r: VerifyReport): string {
    const e = (v: string | number | undefined) => escapeHtml(v === undefined ? "-" : String(v));
    // Keys, versions, hashes and problems wrap; the short columns do not.
    const WRAP = new Set(["key", "version", "sha", "problems"]);
    const row = (cells: (string | number | undefined)[], bad: boolean, kinds: string[] = []) =>
        `<tr class="${bad ? "bad" : "good"}">${cells.map((c, i) => `<td${WRAP.has(kinds[i] ?? "") ? ' class="wrap"' : ""}>${e(c)}</td>`).join("")}</tr>`;
    const OBJECT_KINDS = ["", "", "key", "version", "", "sha", "sha", "sha", "", "", "problems"];
    const objects = r.objects.map((o) => row([o.problems.length === 0 ? "ok" : "FAIL", o.role, o.key, o.versionId, o.actualBytes, o.expectedSha256, o.actualSha256, o.hostSha256, o.lock?.mode, o.lock?.retainUntil, o.problems.join("; ")], o.problems.length > 0, OBJECT_KINDS)).join("\n");
    const snapshots = r.snapshots.map((s) => row([s.unchecked ? "n/a" : s.problems.length === 0 ? "ok" : "FAIL", s.snapshotId, s.location === "hub copy" ? `hub copy of ${s.copyOf}` : "instance account", s.volumeId, s.state, s.unchecked ?? s.problems.join("; ")], s.problems.length > 0, ["", "", "", "", "", "problems"])).join("\n");
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aws-dfir verification: case ${e(r.caseId)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}h1{font-size:1.4em}table{border-collapse:collapse;margin:1em 0;width:100%}
td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top;white-space:nowrap}th{background:#f3f3f3}
td.wrap{white-space:normal;word-break:break-all;font-family:ui-monospace,monospace;font-size:12px}
tr.bad td{background:#fde8e8}tr.good td:first-child{color:#0a6b2d;font-weight:bold}tr.bad td:first-child{color:#a40000;font-weight:bold}
.verdict{font-size:1.2em;font-weight:bold;padding:.5em;border-radius:4px}.ok{background:#e3f6e8;color:#0a6b2d}.fail{background:#fde8e8;color:#a40000}
</style></head><body>
<h1>Chain of custody: case ${e(r.caseId)}</h1>
<p class="verdict ${r.ok ? "ok" : "fail"}">${r.ok ? "VERIFIED" : `NOT VERIFIED: ${r.problems.length} problem(s)`}</p>
<table><tr><th>case status</th><td>${e(r.case.status)}</td><th>manifest status</th><td>${e(r.manifestStatus)}</td></tr>
<tr><th>instance</th><td>${e(r.target?.instanceId ?? r.case.instanceId)}</td><th>account / region</th><td>${e(r.target?.accountId ?? r.case.accountId)} / ${e(r.target?.region ?? r.case.region)}</td></tr>
<tr><th>opened</th><td>${e(r.case.openedAt)}</td><th>sealed</th><td>${e(r.case.sealedAt)}</td></tr>
<tr><th>checked at</th><td colspan="3">${e(r.checkedAt)}</td></tr></table>
<h2>Objects</h2>
<table><tr><th></th><th>role</th><th>key</th><th>version</th><th>bytes</th><th>manifest sha256</th><th>read sha256</th><th>instance sha256</th><th>lock</th><th>retain until</th><th>problems</th></tr>
${objects}
</table>
<h2>Snapshots</h2>
<table><tr><th></th><th>snapshot</th><th>where</th><th>volume</th><th>state</th><th>problems</th></tr>
${snapshots || '<tr><td colspan="6">none recorded</td></tr>'}
</table>
<h2>Manifest signature</h2>
<table><tr><th></th><th>record</th><th>version</th><th>key</th><th>algorithm</th><th>public key from</th><th>problems</th></tr>
${r.signature ? row([r.signature.valid ? "ok" : "FAIL", r.signature.key, r.signature.versionId, r.signature.keyId, r.signature.algorithm, r.signature.publicKeySource, r.signature.problems.join("; ")], !r.signature.valid, ["", "key", "version", "key", "", "", "problems"]) : '<tr><td colspan="7">not checked</td></tr>'}
</table>
${accessHtml(r, e)}
${r.warnings.length ? `<h2>Notes</h2><ul>${r.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>` : ""}
${r.problems.length ? `<h2>Problems</h2><ul>${r.problems.map((p) => `<li>${e(p)}</li>`).join("")}</ul>` : ""}
</body></html>
`;
}

/** `dfir release` for people: the steps (with their outcome once applied), what is not restored, the record. */
export function releaseText(r: ReleaseResult): string {
    const kept = (s: ReleaseResult["steps"][number]) => s.step.kind === "network-acl-entry-kept";
    const mark = (s: ReleaseResult["steps"][number]) => (kept(s) ? "kept" : !r.applied ? "plan" : s.ok === undefined ? "-" : s.ok ? "done" : "FAILED");
    const lines = [`release of ${r.instanceId} (case ${r.caseId})${r.applied ? "" : ": plan only, nothing changed"}`];
    for (const s of r.steps) lines.push(`  ${mark(s).padEnd(6)} ${s.description}${s.error ? `: ${s.error}` : ""}`);
    for (const n of r.notRestored) lines.push(`  not restored: ${n}`);
    if (r.record) lines.push(`recorded: s3://${r.record.bucket}/${r.record.key} (sha256 ${r.record.sha256}, Object Lock COMPLIANCE)`);
    lines.push(!r.applied ? "re-run with --yes to apply" : r.ok ? "RELEASED" : "RELEASE INCOMPLETE: see the failed steps; the instance keeps the rest of its containment");
    return `${lines.join("\n")}\n`;
}

/** `dfir plan` for people: the verdict, the instance, the steps in order, what would fail. */
export function planText(r: PlanResult): string {
    const lines = [`${r.verdict.decision.toUpperCase()}: ${r.verdict.reason}`];
    if (r.target) lines.push(`instance ${r.target.instanceId} in ${r.target.accountId} ${r.target.region}${r.facts ? `, ${r.facts.record.state}, VPC ${r.facts.record.vpcId}, SSM ${r.facts.ssm}` : ""}`);
    r.steps.forEach((s, i) => lines.push(`${String(i + 1).padStart(3)}. [${s.phase}] ${s.action}${s.problem ? `\n       WOULD FAIL: ${s.problem}` : ""}`));
    lines.push(r.wouldFail.length === 0 ? (r.verdict.decision === "respond" ? "nothing would fail" : "nothing would be done") : `${r.wouldFail.length} problem(s) would show in the case`);
    lines.push("(dry run: read-only calls, nothing changed)");
    return `${lines.join("\n")}\n`;
}

/** `dfir attach` for people: the workstation, per snapshot what is (or would be) done, then the commands to start with. */
export function attachText(r: AttachResult): string {
    const w = r.workstation;
    const lines = [`attach case ${r.caseId}${r.instanceId ? ` (${r.instanceId})` : ""} to the workstation ${w.instanceId} (${w.state}, ${w.availabilityZone})${r.applied ? "" : ": plan only, nothing changed"}`];
    for (const s of r.steps) {
        const from = s.hubCopy ? `${s.snapshotId} (the hub's copy of ${s.evidenceSnapshotId})` : s.snapshotId;
        const what = s.action === "create"
            ? `new encrypted volume${s.volumeId ? ` ${s.volumeId}` : ""} from ${from} in ${w.availabilityZone}, attached at ${s.deviceName}`
            : s.action === "attach" ? `${s.volumeId} (made earlier from ${from}) attached at ${s.deviceName}` : `${s.volumeId} (from ${from}) already attached at ${s.deviceName}`;
        const mark = !r.applied ? "plan" : s.ok === undefined ? "-" : s.ok ? (s.action === "attached" ? "kept" : "done") : "FAILED";
        lines.push(`  ${mark.padEnd(6)} ${what}${s.error ? `: ${s.error}` : ""}`);
    }
    for (const n of r.notes) lines.push(`  note: ${n}`);
    const ready = r.steps.filter((s) => s.commands);
    if (ready.length > 0) {
        lines.push("", "On the workstation (aws ssm start-session --target " + w.instanceId + "), read-only, per volume:");
        for (const s of ready) lines.push("", ...(s.commands as string[]));
    }
    if (r.memory && (r.applied || ready.length > 0)) {
        lines.push("", `Memory image s3://${r.memory.bucket}/${r.memory.key} (${r.memory.bytes} bytes), Volatility 3:`, ...r.memory.commands);
    }
    if (r.recorded) lines.push("", `recorded on the case: attachedVolumes, attachedAt (by ${r.recorded.attachedBy})`);
    if (r.recordError) lines.push("", `NOT RECORDED: the case record write failed (${r.recordError}); the volumes above are there: a re-run adopts them and records them`);
    lines.push(!r.applied ? "re-run with --yes to create and attach" : r.ok ? "ATTACHED" : r.steps.every((s) => s.ok) ? "ATTACHED, NOT RECORDED" : "ATTACH INCOMPLETE: see the failed volumes; a re-run adopts what was made");
    return `${lines.join("\n")}\n`;
}

/** The access section of the HTML report: one row per read or change of an evidence object. */
function accessHtml(r: VerifyReport, e: (v: string | number | undefined) => string): string {
    const a = r.access;
    if (!a || a.unreachable) return "";
    const rows = a.objects.flatMap((o) => [...o.reads, ...o.changes].map((x) =>
        `<tr class="${x.errorCode || x.kind === "delete" || x.kind === "retention" ? "bad" : "good"}"><td>${e(x.kind)}</td><td class="wrap">${e(o.key)}</td><td class="wrap">${e(x.versionId)}</td><td>${e(x.eventName)}</td><td class="wrap">${e(x.who)}</td><td>${e(x.from)}</td><td>${e(x.at)}</td><td>${e(x.errorCode ?? "ok")}</td></tr>`));
    return `<h2>Access (trail s3://${e(a.trailBucket)}, delivered through ${e(a.deliveredThrough)})</h2>
<table><tr><th>what</th><th>key</th><th>version</th><th>call</th><th>who</th><th>from</th><th>when</th><th>result</th></tr>
${rows.join("\n") || '<tr><td colspan="8">no access recorded</td></tr>'}
</table>`;
}
