/**
 * The evidence access trail (issue 17, item 4): which CloudTrail events the evidence buckets' trail selects, the
 * trail bucket's policy, how its log files are named and read, and which records count as access to a case's
 * evidence — reads, deletes, retention and legal-hold changes, refused attempts included. Pure: the component
 * (components/evidenceTrail.ts), the simulator (drill/sim/trail.ts), `dfir verify` and the policy pack
 * (policy/rules/evidence-access-trail.ts) all decide with these functions.
 *
 * AWS facts this follows:
 * - "Filtering data events by using advanced event selectors" (CloudTrail User Guide): a data event selector needs
 *   `eventCategory` Equals `Data` and `resources.type` (`AWS::S3::Object`); `resources.ARN` StartsWith a bucket ARN
 *   and "/" selects that bucket's objects; without `readOnly` both reads and writes are logged; `eventName` may
 *   filter. A trail logs an event when any of its selectors matches, and a selector matches when all its field
 *   selectors do.
 * - "Amazon S3 CloudTrail events" (S3 User Guide, cloudtrail-logging-s3-info): object-level operations (GetObject,
 *   HeadObject, PutObject, DeleteObject, DeleteObjects, PutObjectRetention, PutObjectLegalHold, GetObjectRetention,
 *   ...) are data events, not logged by default; bucket-level operations (PutBucketPolicy,
 *   PutObjectLockConfiguration, DeleteBucket, ...) are management events.
 * - "CloudTrail log file examples" (log file name format): `AccountID_CloudTrail_RegionName_YYYYMMDDTHHmmZ_
 *   UniqueString.json.gz`, the time being when the file was delivered ("a log file delivered at a specific time can
 *   contain records written at any point before that time"), a gzip JSON text `{"Records": [...]}`, under
 *   `AWSLogs/AccountID/CloudTrail/RegionName/YYYY/MM/DD/`.
 * - "Getting and viewing your CloudTrail log files": "CloudTrail typically delivers logs within an average of about
 *   5 minutes of an API call. This time is not guaranteed."
 * - The bucket policy CloudTrail needs ("Amazon S3 bucket policy for CloudTrail"): the service principal
 *   `cloudtrail.amazonaws.com` may `s3:GetBucketAcl` on the bucket and `s3:PutObject` under `AWSLogs/<account>/`
 *   with `s3:x-amz-acl` = `bucket-owner-full-control`, both narrowed to the trail by `aws:SourceArn`.
 */
import { gunzipSync } from "node:zlib";
import { EVIDENCE_TAMPER_ACTIONS, type PolicyDocument, type PolicyStatement } from "./iam";

/** A field selector as @pulumi/aws's Trail takes it (`advancedEventSelectors[].fieldSelectors[]`). */
export interface FieldSelector {
    field: string;
    equals?: string[];
    startsWiths?: string[];
    endsWiths?: string[];
    notEquals?: string[];
    notStartsWiths?: string[];
    notEndsWiths?: string[];
}

export interface AdvancedEventSelector {
    name?: string;
    fieldSelectors: FieldSelector[];
}

/** The fields of an event a selector can filter on. */
export interface SelectableEvent {
    eventCategory: "Data" | "Management";
    eventName: string;
    readOnly: boolean;
    eventSource?: string;
    /** `resources.type` / `resources.ARN` (data events). */
    resourceType?: string;
    resourceArn?: string;
}

/** The object ARNs of a bucket start with this. */
export const objectArnPrefix = (bucketArn: string): string => `${bucketArn}/`;

/**
 * The evidence trail's selectors: every data event (read and write) on the objects of the evidence buckets, and
 * the write management events of the account and region (bucket policy, lock configuration, deleting a bucket,
 * stopping or changing the trail itself are management events; the first copy of management events is free,
 * CloudTrail pricing page).
 */
export function evidenceTrailSelectors(bucketArns: readonly string[]): AdvancedEventSelector[] {
    return trailSelectorsFor([...bucketArns].sort().map(objectArnPrefix));
}

/**
 * {@link evidenceTrailSelectors} over object ARN prefixes of any kind: the component passes Pulumi outputs, so only
 * those leaves are unknown during a preview and the policy pack still reads the selectors' shape.
 */
export function trailSelectorsFor<P>(objectPrefixes: readonly P[]): { name: string; fieldSelectors: { field: string; equals?: string[]; startsWiths?: P[] }[] }[] {
    return [
        {
            name: "Evidence objects: every read and write",
            fieldSelectors: [
                { field: "eventCategory", equals: ["Data"] },
                { field: "resources.type", equals: ["AWS::S3::Object"] },
                { field: "resources.ARN", startsWiths: [...objectPrefixes] },
            ],
        },
        {
            name: "Management events that change something",
            fieldSelectors: [
                { field: "eventCategory", equals: ["Management"] },
                { field: "readOnly", equals: ["false"] },
            ],
        },
    ];
}

function fieldValue(event: SelectableEvent, field: string): string | undefined {
    switch (field) {
        case "eventCategory": return event.eventCategory;
        case "eventName": return event.eventName;
        case "readOnly": return String(event.readOnly);
        case "eventSource": return event.eventSource;
        case "resources.type": return event.resourceType;
        case "resources.ARN": return event.resourceArn;
        default: return undefined;
    }
}

/** Whether one field selector admits the event: some positive condition holds (if any is given) and no negative one. */
function fieldMatches(selector: FieldSelector, event: SelectableEvent): boolean {
    const value = fieldValue(event, selector.field);
    const positive = [
        ...(selector.equals ?? []).map((v) => value === v),
        ...(selector.startsWiths ?? []).map((v) => value !== undefined && value.startsWith(v)),
        ...(selector.endsWiths ?? []).map((v) => value !== undefined && value.endsWith(v)),
    ];
    if (positive.length > 0 && !positive.some(Boolean)) return false;
    if ((selector.notEquals ?? []).some((v) => value === v)) return false;
    if ((selector.notStartsWiths ?? []).some((v) => value !== undefined && value.startsWith(v))) return false;
    if ((selector.notEndsWiths ?? []).some((v) => value !== undefined && value.endsWith(v))) return false;
    return true;
}

/** Whether a trail with these advanced selectors logs the event. */
export function selectorsLog(selectors: readonly AdvancedEventSelector[], event: SelectableEvent): boolean {
    return selectors.some((s) => s.fieldSelectors.every((f) => fieldMatches(f, event)));
}

/**
 * The S3 object operations the trail must log for the evidence to be accounted for (the policy pack checks each
 * against a trail's selectors): reading an object, deleting one or many, changing a retention or a legal hold.
 */
export const REQUIRED_OBJECT_EVENTS: readonly { eventName: string; readOnly: boolean }[] = [
    { eventName: "GetObject", readOnly: true },
    { eventName: "HeadObject", readOnly: true },
    { eventName: "DeleteObject", readOnly: false },
    { eventName: "DeleteObjects", readOnly: false },
    { eventName: "PutObjectRetention", readOnly: false },
    { eventName: "PutObjectLegalHold", readOnly: false },
    { eventName: "PutObject", readOnly: false },
];

/** The required object events a trail's selectors would not log for objects of `bucketArn`. */
export function uncoveredEvents(selectors: readonly AdvancedEventSelector[], bucketArn: string): string[] {
    return REQUIRED_OBJECT_EVENTS.filter((e) => !selectorsLog(selectors, {
        eventCategory: "Data",
        eventName: e.eventName,
        readOnly: e.readOnly,
        eventSource: "s3.amazonaws.com",
        resourceType: "AWS::S3::Object",
        resourceArn: `${objectArnPrefix(bucketArn)}cases/case-id/memory/i-0123456789abcdef0.lime`,
    })).map((e) => e.eventName);
}

/** The trail's ARN, from its fixed name (the bucket policy names it before the trail exists). */
export const trailArnOf = (partition: string, region: string, accountId: string, trailName: string): string =>
    `arn:${partition}:cloudtrail:${region}:${accountId}:trail/${trailName}`;

/**
 * The trail bucket's policy: CloudTrail (this trail only) may check the ACL and deliver under AWSLogs/<account>/;
 * TLS only; nobody but the break-glass role may delete versions, bypass retention or change the lock configuration
 * (the evidence bucket's tamper actions, core/iam.ts).
 */
export function trailBucketPolicy(bucketArn: string, trailArn: string, accountId: string, breakGlassRoleArn?: string): PolicyDocument {
    const tamper: PolicyStatement = { Sid: "DenyTrailTampering", Effect: "Deny", Principal: "*", Action: [...EVIDENCE_TAMPER_ACTIONS], Resource: [bucketArn, `${bucketArn}/*`] };
    if (breakGlassRoleArn) tamper.Condition = { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } };
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "AWSCloudTrailAclCheck", Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "s3:GetBucketAcl", Resource: bucketArn, Condition: { StringEquals: { "aws:SourceArn": trailArn } } },
            {
                Sid: "AWSCloudTrailWrite",
                Effect: "Allow",
                Principal: { Service: "cloudtrail.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: `${bucketArn}/AWSLogs/${accountId}/*`,
                Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
            },
            { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucketArn, `${bucketArn}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
            tamper,
        ],
    };
}

// ------------------------------------------------------------------ log files

/** "Getting and viewing your CloudTrail log files": about 5 minutes on average, not guaranteed. */
export const TYPICAL_DELIVERY_MINUTES = 5;

const LOG_KEY = /^AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$/;

/** The key CloudTrail gives a log file delivered at `deliveredAt` ("CloudTrail log file examples"). */
export function trailLogKey(accountId: string, region: string, deliveredAt: Date, unique: string): string {
    const iso = deliveredAt.toISOString();
    const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
    const stamp = `${y}${m}${d}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
    return `AWSLogs/${accountId}/CloudTrail/${region}/${y}/${m}/${d}/${accountId}_CloudTrail_${region}_${stamp}_${unique}.json.gz`;
}

/** A log file key's account, region and delivery minute; undefined for anything else (digest files included). */
export function parseTrailLogKey(key: string): { accountId: string; region: string; deliveredAt: string } | undefined {
    const m = LOG_KEY.exec(key);
    if (!m) return undefined;
    const t = m[6] as string;
    return { accountId: m[1] as string, region: m[2] as string, deliveredAt: `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:00.000Z` };
}

/**
 * The log files that can hold records of `since` or later: a file is delivered after the records it holds, so
 * one delivered before `since` (to the minute) cannot. Sorted by key (delivery order within a region).
 */
export function logFilesSince(keys: readonly string[], since: Date): string[] {
    const floor = Math.floor(since.getTime() / 60_000) * 60_000;
    return keys.filter((k) => {
        const parsed = parseTrailLogKey(k);
        return parsed !== undefined && Date.parse(parsed.deliveredAt) >= floor;
    }).sort();
}

/** One CloudTrail record, the fields read here ("CloudTrail record contents"). */
export interface TrailRecord {
    eventTime: string;
    eventSource: string;
    eventName: string;
    eventCategory?: string;
    readOnly?: boolean;
    sourceIPAddress?: string;
    userAgent?: string;
    errorCode?: string;
    errorMessage?: string;
    userIdentity?: { type?: string; arn?: string; principalId?: string; accountId?: string; invokedBy?: string; sessionContext?: { sessionIssuer?: { arn?: string } } };
    requestParameters?: Record<string, unknown> | null;
    resources?: { type?: string; ARN?: string }[];
    requestID?: string;
    eventID?: string;
}

/** Bad log file content: one line naming the file. */
export class TrailLogError extends Error {
    override name = "TrailLogError";
}

/** The records of one delivered log file (gzip JSON `{"Records": [...]}`). */
export function parseTrailLog(key: string, gz: Uint8Array): TrailRecord[] {
    let doc: unknown;
    try {
        doc = JSON.parse(gunzipSync(gz).toString("utf8"));
    } catch (error) {
        throw new TrailLogError(`${key}: not a gzip JSON log file: ${(error as Error).message.split("\n")[0]}`);
    }
    const records = (doc as { Records?: unknown } | null)?.Records;
    if (!Array.isArray(records)) throw new TrailLogError(`${key}: no Records array`);
    return records.filter((r): r is TrailRecord => typeof r === "object" && r !== null && typeof (r as TrailRecord).eventName === "string" && typeof (r as TrailRecord).eventTime === "string");
}

// ------------------------------------------------------------------ evidence access

/** What an access did to an object. */
export type AccessKind = "read" | "inspect" | "write" | "delete" | "retention";

/** S3 object operations by kind ("Amazon S3 CloudTrail events"): reads of content, reads of metadata, changes. */
const KINDS: Readonly<Record<string, AccessKind>> = {
    GetObject: "read",
    SelectObjectContent: "read",
    GetObjectTorrent: "read",
    HeadObject: "inspect",
    GetObjectAttributes: "inspect",
    GetObjectAcl: "inspect",
    GetObjectTagging: "inspect",
    GetObjectRetention: "inspect",
    GetObjectLegalHold: "inspect",
    PutObject: "write",
    CopyObject: "write",
    CreateMultipartUpload: "write",
    UploadPart: "write",
    UploadPartCopy: "write",
    CompleteMultipartUpload: "write",
    PutObjectAcl: "write",
    PutObjectTagging: "write",
    DeleteObjectTagging: "write",
    RestoreObject: "write",
    DeleteObject: "delete",
    DeleteObjects: "delete",
    PutObjectRetention: "retention",
    PutObjectLegalHold: "retention",
};

/** One access to one evidence object, as the trail recorded it. */
export interface EvidenceAccess {
    at: string;
    kind: AccessKind;
    eventName: string;
    bucket: string;
    key: string;
    versionId?: string;
    /** The caller: the session's ARN (assumed role / user), else its principal id, else the AWS service that called. */
    who: string;
    /** The role behind an assumed-role session. */
    role?: string;
    from?: string;
    /** Absent: the call succeeded. */
    errorCode?: string;
}

const S3_OBJECT_ARN = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/;

/** The objects a record names: requestParameters bucket/key, else its AWS::S3::Object resources. */
function objectsOf(record: TrailRecord): { bucket: string; key: string }[] {
    const p = record.requestParameters ?? {};
    if (typeof p.bucketName === "string" && typeof p.key === "string") return [{ bucket: p.bucketName, key: p.key }];
    return (record.resources ?? []).flatMap((r) => {
        const m = r.type === "AWS::S3::Object" && typeof r.ARN === "string" ? S3_OBJECT_ARN.exec(r.ARN) : null;
        return m ? [{ bucket: m[1] as string, key: m[2] as string }] : [];
    });
}

/**
 * The object a copy (CopyObject, UploadPartCopy) reads: its `x-amz-copy-source` request parameter, `bucket/key`
 * URL-encoded with an optional `?versionId=` (S3 API Reference, CopyObject: x-amz-copy-source). The request
 * parameters name the destination; a copy of evidence to another bucket is a read of the evidence. That CloudTrail
 * logs the header among `requestParameters` under that name is assumed (docs/limitations.md).
 */
function copySourceOf(record: TrailRecord): { bucket: string; key: string; versionId?: string } | undefined {
    const raw = record.requestParameters?.["x-amz-copy-source"];
    if (typeof raw !== "string") return undefined;
    const [path, query] = raw.replace(/^\//, "").split("?", 2) as [string, string | undefined];
    let decoded: string;
    try {
        decoded = decodeURIComponent(path);
    } catch {
        return undefined;
    }
    const cut = decoded.indexOf("/");
    if (cut <= 0) return undefined;
    const versionId = query ? new URLSearchParams(query).get("versionId") ?? undefined : undefined;
    return { bucket: decoded.slice(0, cut), key: decoded.slice(cut + 1), ...(versionId ? { versionId } : {}) };
}

/**
 * The accesses to a case's evidence among trail records: S3 object events on `bucket` under `cases/<caseId>/`
 * (a copy's source among them, as a read), oldest first. Writes by the response itself are kept (they are part of the record), reads by anyone.
 */
export function evidenceAccesses(records: readonly TrailRecord[], bucket: string, caseId: string): EvidenceAccess[] {
    const prefix = `cases/${caseId}/`;
    const out: EvidenceAccess[] = [];
    for (const r of records) {
        const kind = r.eventSource === "s3.amazonaws.com" ? KINDS[r.eventName] : undefined;
        if (!kind) continue;
        const identity = r.userIdentity ?? {};
        const versionId = typeof r.requestParameters?.versionId === "string" ? r.requestParameters.versionId : undefined;
        const source = r.eventName === "CopyObject" || r.eventName === "UploadPartCopy" ? copySourceOf(r) : undefined;
        const touched = [
            ...objectsOf(r).map((o) => ({ ...o, kind, versionId })),
            ...(source ? [{ bucket: source.bucket, key: source.key, kind: "read" as const, versionId: source.versionId }] : []),
        ];
        for (const o of touched) {
            if (o.bucket !== bucket || !o.key.startsWith(prefix)) continue;
            out.push({
                at: r.eventTime,
                kind: o.kind,
                eventName: r.eventName,
                bucket: o.bucket,
                key: o.key,
                ...(o.versionId ? { versionId: o.versionId } : {}),
                who: identity.arn ?? identity.principalId ?? identity.invokedBy ?? "unknown",
                ...(identity.sessionContext?.sessionIssuer?.arn ? { role: identity.sessionContext.sessionIssuer.arn } : {}),
                ...(r.sourceIPAddress ? { from: r.sourceIPAddress } : {}),
                ...(r.errorCode ? { errorCode: r.errorCode } : {}),
            });
        }
    }
    return out.sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key));
}

/** Per evidence object: who read it when, and every change or attempted change. */
export interface ObjectAccessSummary {
    key: string;
    reads: EvidenceAccess[];
    /** Writes, deletes, retention and legal-hold changes, refused ones included. */
    changes: EvidenceAccess[];
}

/** The accesses grouped per object key (metadata reads are not listed as reads: nothing of the content left). */
export function accessByObject(accesses: readonly EvidenceAccess[]): ObjectAccessSummary[] {
    const byKey = new Map<string, ObjectAccessSummary>();
    for (const a of accesses) {
        if (a.kind === "inspect" && !a.errorCode) continue;
        const s = byKey.get(a.key) ?? { key: a.key, reads: [], changes: [] };
        byKey.set(a.key, s);
        if (a.kind === "read" || a.kind === "inspect") s.reads.push(a);
        else s.changes.push(a);
    }
    return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

const described = (a: EvidenceAccess): string =>
    `${a.key}${a.versionId ? ` (version ${a.versionId})` : ""}: ${a.eventName} by ${a.who}${a.from ? ` from ${a.from}` : ""} at ${a.at}`;

/**
 * What the accesses mean for the chain of custody. A problem: a version of the case's evidence deleted (S3 accepted
 * it: the lock did not hold). Warnings: a delete marker (the versions stay, but the object looks gone), a refused
 * delete, a retention or legal-hold change or attempt, a refused read — each worth an analyst's question.
 */
export function accessFindings(accesses: readonly EvidenceAccess[]): { problems: string[]; warnings: string[] } {
    const problems: string[] = [];
    const warnings: string[] = [];
    for (const a of accesses) {
        if (a.kind === "delete") {
            if (a.errorCode) warnings.push(`attempted delete refused (${a.errorCode}): ${described(a)}`);
            // A batch delete answers 200 with each object's own result, and names each version in its body: the trail
            // cannot say which object went or which version. The evidence checks say whether each version is there.
            else if (a.eventName === "DeleteObjects") warnings.push(`batch delete naming it (per-object results and versions are not in the trail; the version checks above say whether it is still there): ${described(a)}`);
            else if (a.versionId) problems.push(`version deleted: ${described(a)}`);
            else warnings.push(`delete marker placed (the versions remain): ${described(a)}`);
        } else if (a.kind === "retention") {
            warnings.push(a.errorCode ? `attempted retention change refused (${a.errorCode}): ${described(a)}` : `retention changed: ${described(a)}`);
        } else if ((a.kind === "read" || a.kind === "inspect") && a.errorCode) {
            warnings.push(`read refused (${a.errorCode}): ${described(a)}`);
        }
    }
    return { problems, warnings };
}
