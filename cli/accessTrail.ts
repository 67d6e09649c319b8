/**
 * `dfir verify`'s access section: reads the evidence access trail's log files (components/evidenceTrail.ts) from
 * its bucket — ListObjectsV2 and GetObject, the analyst's own read permissions — and says, per evidence object of
 * the case, who read it and when, and every attempt to delete it or change its retention (core/accessTrail.ts
 * decides). A trail that cannot be read is a warning, never a failed verification: the evidence's own checks stand.
 */
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
    accessByObject, accessFindings, evidenceAccesses, logFilesSince, parseTrailLog, parseTrailLogKey, TYPICAL_DELIVERY_MINUTES,
    type ObjectAccessSummary, type TrailRecord,
} from "../core/accessTrail";
import { client } from "../functions/lib/aws";
import type { AnalystContext } from "./context";

export interface AccessSection {
    /** The trail's log bucket read (absent: none given). */
    trailBucket?: string;
    /** Why the trail was not read (then a warning of the report). */
    unreachable?: string;
    /** Log files read (delivered since the case opened). */
    logFiles: number;
    /** The latest of them was delivered at (to the minute): later accesses are not shown yet. */
    deliveredThrough?: string;
    /** Per evidence object of the case: its reads and its changes (refused attempts included). */
    objects: ObjectAccessSummary[];
    problems: string[];
    warnings: string[];
}

const line = (error: unknown) => `${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;

/** Read the trail for a case's evidence in `evidenceBucket` (its objects under cases/<caseId>/) since `since`. */
export async function readAccessTrail(
    ctx: AnalystContext,
    a: { trailBucket?: string; evidenceBucket: string; caseId: string; since?: string },
): Promise<AccessSection> {
    const section: AccessSection = { logFiles: 0, objects: [], problems: [], warnings: [] };
    if (!a.trailBucket) {
        section.unreachable = "no access trail bucket given (--trail-bucket, or DFIR_TRAIL_BUCKET: the stack output accessTrailBucket): who read the evidence is not shown";
        section.warnings.push(section.unreachable);
        return section;
    }
    section.trailBucket = a.trailBucket;
    const s3 = client("s3", { region: ctx.region });
    const keys: string[] = [];
    try {
        let token: string | undefined;
        do {
            const page = await s3.send(new ListObjectsV2Command({ Bucket: a.trailBucket, Prefix: "AWSLogs/", ...(token ? { ContinuationToken: token } : {}) }));
            for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
    } catch (error) {
        section.unreachable = `cannot list the access trail s3://${a.trailBucket}: ${line(error)}`;
        section.warnings.push(section.unreachable);
        return section;
    }
    const since = a.since && !Number.isNaN(Date.parse(a.since)) ? new Date(a.since) : new Date(0);
    const files = logFilesSince(keys, since);
    const records: TrailRecord[] = [];
    for (const key of files) {
        try {
            const out = await s3.send(new GetObjectCommand({ Bucket: a.trailBucket, Key: key }));
            records.push(...parseTrailLog(key, await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()));
            section.logFiles += 1;
        } catch (error) {
            section.warnings.push(`cannot read access trail log file ${key}: ${line(error)}`);
        }
    }
    const last = files.at(-1);
    if (last) section.deliveredThrough = parseTrailLogKey(last)?.deliveredAt;
    const accesses = evidenceAccesses(records, a.evidenceBucket, a.caseId);
    section.objects = accessByObject(accesses);
    const findings = accessFindings(accesses);
    section.problems.push(...findings.problems);
    section.warnings.push(...findings.warnings);
    return section;
}

/** The section as text lines: who read what when, then the delivery caveat. */
export function accessText(s: AccessSection): string[] {
    if (s.unreachable) return [];
    const lines = [`access trail s3://${s.trailBucket}: ${s.logFiles} log file(s) since the case opened${s.deliveredThrough ? `, delivered through ${s.deliveredThrough}` : ""}`];
    for (const o of s.objects) {
        for (const r of o.reads) lines.push(`  read    ${o.key}${r.versionId ? ` (${r.versionId})` : ""}: ${r.eventName} by ${r.who}${r.from ? ` from ${r.from}` : ""} at ${r.at}${r.errorCode ? ` REFUSED ${r.errorCode}` : ""}`);
        for (const c of o.changes) lines.push(`  ${c.kind.padEnd(7)} ${o.key}${c.versionId ? ` (${c.versionId})` : ""}: ${c.eventName} by ${c.who}${c.from ? ` from ${c.from}` : ""} at ${c.at}${c.errorCode ? ` REFUSED ${c.errorCode}` : ""}`);
    }
    if (s.objects.length === 0) lines.push("  no access to this case's evidence recorded");
    lines.push(`  (CloudTrail delivers about ${TYPICAL_DELIVERY_MINUTES} minutes after a call, not guaranteed: the latest accesses may not be there yet)`);
    return lines;
}
