/**
 * Every read of evidence, and every attempt to delete it or change its retention, is on record (issue 17, item 4):
 * each evidence bucket's objects are selected by a CloudTrail trail of the stack — reads and writes: GetObject,
 * HeadObject, PutObject, DeleteObject(s), PutObjectRetention, PutObjectLegalHold (core/accessTrail.ts
 * `REQUIRED_OBJECT_EVENTS`, judged with the same selector semantics the simulator logs by) — that is logging, has
 * log file integrity validation on, and delivers into a bucket of the stack under Object Lock COMPLIANCE (so its
 * record cannot be removed either). Mandatory.
 *
 * A trail's selectors are read from `advancedEventSelectors`, or from basic `eventSelectors` (`dataResources` of
 * type AWS::S3::Object, their `values` as ARN prefixes, `readWriteType` All / ReadOnly / WriteOnly: "Logging data
 * events", CloudTrail User Guide). A trail whose log bucket is not in the stack cannot be shown to be locked: not
 * enough. Unknown values (preview: a new bucket's ARN) make an advisory note, never a pass.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { objectArnPrefix, uncoveredEvents, type AdvancedEventSelector, type FieldSelector } from "../../core/accessTrail";
import { BUCKET_LINKS, bucketIds, configsOf, evidenceBucketFindings } from "../lib/buckets";
import { asList, isObject, isUnknown, knownString, listNames, Problems, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";
import { StackIndex, type LinkSpec } from "../lib/stackIndex";

export const NAME = "evidence-access-trail";

/** A trail's `s3BucketName` names its log bucket. */
const TRAIL_LINK: LinkSpec = { types: [TYPES.trail], prop: "s3BucketName", targetTypes: TYPES.buckets, identifiers: bucketIds };

const OPERATORS = ["equals", "startsWiths", "endsWiths", "notEquals", "notStartsWiths", "notEndsWiths"] as const;

/**
 * A trail's selectors as core/accessTrail.ts reads them; `unknown` when any value they depend on is unknown.
 * `fromBucket`: the trail's `advancedEventSelectors` come from the evidence bucket alone (its propertyDependencies),
 * so its `resources.ARN` values are read as that bucket's object prefix `prefix` — the unknown ones, and, when the
 * bucket's own ARN is not known either (`all`: a preview, or a resource list of inputs), the known ones too. That is
 * what EvidenceTrail passes; a dependency says a value was computed from the bucket, and the stack index
 * (policy/lib/stackIndex.ts) reads links the same way.
 */
function selectorsOf(trail: RuleResource, fromBucket?: { prefix: string; all: boolean }): { selectors: AdvancedEventSelector[] } | { unknown: string } {
    const advanced = trail.props.advancedEventSelectors;
    const basic = trail.props.eventSelectors;
    if (isUnknown(advanced) || isUnknown(basic)) return { unknown: `the event selectors of trail ${trail.name}` };
    const selectors: AdvancedEventSelector[] = [];
    for (const s of asList(advanced)) {
        if (!isObject(s)) continue;
        const fields: FieldSelector[] = [];
        for (const f of asList(s.fieldSelectors)) {
            if (!isObject(f)) continue;
            if (isUnknown(f.field)) return { unknown: `a field of trail ${trail.name}'s selectors` };
            const field: FieldSelector = { field: String(f.field) };
            for (const op of OPERATORS) {
                if (isUnknown(f[op])) return { unknown: `the ${String(f.field)} values of trail ${trail.name}'s selectors` };
                const values = asList(f[op]).map((v) => (f.field === "resources.ARN" && fromBucket && (fromBucket.all || isUnknown(v)) ? fromBucket.prefix : v));
                if (values.some(isUnknown)) return { unknown: `the ${String(f.field)} values of trail ${trail.name}'s selectors` };
                if (values.length > 0) field[op] = values.map(String);
            }
            fields.push(field);
        }
        selectors.push({ fieldSelectors: fields });
    }
    for (const s of asList(basic)) {
        if (!isObject(s)) continue;
        const rw = s.readWriteType ?? "All";
        if (isUnknown(rw)) return { unknown: `the readWriteType of trail ${trail.name}'s event selectors` };
        for (const d of asList(s.dataResources)) {
            if (!isObject(d) || d.type !== "AWS::S3::Object") continue;
            const values = asList(d.values);
            if (values.some(isUnknown) || isUnknown(d.values)) return { unknown: `the data resources of trail ${trail.name}'s event selectors` };
            selectors.push({
                fieldSelectors: [
                    { field: "eventCategory", equals: ["Data"] },
                    { field: "resources.type", equals: ["AWS::S3::Object"] },
                    { field: "resources.ARN", startsWiths: values.map(String) },
                    ...(rw === "All" ? [] : [{ field: "readOnly", equals: [rw === "ReadOnly" ? "true" : "false"] }]),
                ],
            });
        }
    }
    return { selectors };
}

/** The bucket a trail delivers to (its `s3BucketName`), or why it cannot be told. */
function logBucketOf(index: StackIndex, trail: RuleResource): { bucket: RuleResource } | { unknown: string } | { missing: string } {
    for (const b of index.ofTypes(TYPES.buckets)) {
        if (index.linked(b, [TYPES.trail], "s3BucketName").some((t) => t.urn === trail.urn) && !index.isAmbiguous(trail, "s3BucketName")) return { bucket: b };
    }
    const name = trail.props.s3BucketName;
    if (isUnknown(name)) return { unknown: `the log bucket of trail ${trail.name}` };
    return { missing: `trail ${trail.name} delivers to ${knownString(name) ?? "no bucket"}, which is not in this stack: its Object Lock cannot be checked` };
}

/** The problems of one trail for one evidence bucket (into `p`: a fresh Problems per trail). */
function checkTrail(index: StackIndex, trail: RuleResource, bucket: RuleResource, bucketArn: string, arnKnown: boolean, p: Problems): void {
    const sources = (trail.propertyDependencies?.advancedEventSelectors ?? []).filter((u) => (TYPES.buckets as readonly string[]).includes(index.byUrn(u)?.type ?? ""));
    const fromBucket = sources.length === 1 && sources[0] === bucket.urn ? { prefix: objectArnPrefix(bucketArn), all: !arnKnown } : undefined;
    const read = selectorsOf(trail, fromBucket);
    if ("unknown" in read) p.unknownValue(read.unknown);
    else {
        const missing = uncoveredEvents(read.selectors, bucketArn);
        if (missing.length > 0) p.violation(`trail ${trail.name} does not log ${listNames(missing, 7)} on its objects — select eventCategory Data, resources.type AWS::S3::Object, resources.ARN StartsWith "${bucketArn}/", reads and writes`);
    }
    if (trail.props.enableLogging === false) p.violation(`trail ${trail.name} is not logging — set enableLogging: true`);
    const validation = trail.props.enableLogFileValidation;
    if (isUnknown(validation)) p.unknownValue(`enableLogFileValidation of trail ${trail.name}`);
    else if (validation !== true) p.violation(`trail ${trail.name} has no log file integrity validation — set enableLogFileValidation: true`);
    const logs = logBucketOf(index, trail);
    if ("unknown" in logs) return void p.unknownValue(logs.unknown);
    if ("missing" in logs) return void p.violation(`${logs.missing} — deliver into a bucket of the stack with Object Lock COMPLIANCE (EvidenceTrail)`);
    const enabled = logs.bucket.props.objectLockEnabled;
    if (isUnknown(enabled)) p.unknownValue(`objectLockEnabled of trail ${trail.name}'s bucket ${logs.bucket.name}`);
    else if (enabled !== true) p.violation(`trail ${trail.name}'s bucket ${logs.bucket.name} has no Object Lock — create it with objectLockEnabled: true`);
    const locks = configsOf(index, logs.bucket, TYPES.lockConfigs, p, `lock configuration of ${logs.bucket.name}`);
    if (locks !== undefined && locks.length === 0) p.violation(`trail ${trail.name}'s bucket ${logs.bucket.name} has no BucketObjectLockConfiguration — add one with rule.defaultRetention {mode: "COMPLIANCE", days: ...}`);
    for (const lock of locks ?? []) {
        const rule = lock.props.rule;
        const mode = isObject(rule) && isObject(rule.defaultRetention) ? rule.defaultRetention.mode : isUnknown(rule) ? rule : undefined;
        if (isUnknown(mode)) p.unknownValue(`the retention mode of ${lock.name}`);
        else if (mode !== "COMPLIANCE") p.violation(`trail ${trail.name}'s bucket ${logs.bucket.name}: lock configuration ${lock.name} has ${typeof mode === "string" ? mode : "no"} default retention — use COMPLIANCE`);
    }
}

/** The rule, as a pure function of the stack: one finding per evidence bucket. */
export function checkEvidenceAccessTrail(resources: Iterable<RuleResource>): Finding[] {
    const list = [...resources];
    const index = new StackIndex(list, [...BUCKET_LINKS, TRAIL_LINK]);
    const trails = index.ofType(TYPES.trail);
    return evidenceBucketFindings(list, (bucket, _bucketIndex, p) => {
        // The bucket's ARN: its own, else from its known name; else (a new bucket during a preview) a stand-in,
        // matched only through the trails' dependencies on the bucket.
        const name = knownString(bucket.props.bucket);
        const known = knownString(bucket.props.arn) ?? (name !== undefined ? `arn:aws:s3:::${name}` : undefined);
        const arn = known ?? `arn:aws:s3:::unknown-arn-of-${bucket.name}`;
        if (trails.length === 0) return void p.violation("no CloudTrail trail in the stack logs who reads or deletes its objects — add an EvidenceTrail (components/evidenceTrail.ts)");
        const results = trails.map((t) => ({ trail: t, p: new Problems() }));
        for (const r of results) checkTrail(index, r.trail, bucket, arn, known !== undefined, r.p);
        const verdicts = results.map((r) => r.p.verdict());
        if (verdicts.some((v) => v.status === "compliant")) return;
        const undecided = verdicts.filter((v) => v.status === "unknown");
        if (undecided.length > 0) return void p.unknownNote(undecided.map((v) => (v.status === "unknown" ? v.message : "")).join("; "));
        p.violation(verdicts.map((v) => (v.status === "violation" ? v.message : "")).join("; "));
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence access is on record in a locked trail",
    description:
        "Every evidence bucket's objects are selected by a CloudTrail trail of the stack for reads and writes (GetObject, HeadObject, PutObject, " +
        "DeleteObject(s), PutObjectRetention, PutObjectLegalHold), with logging and log file validation on, delivering into a bucket of the stack " +
        "with Object Lock enabled and a COMPLIANCE default retention.",
    enforcementLevel: "mandatory",
    severity: "high",
    tags: ["s3", "cloudtrail", "evidence", "chain-of-custody"],
    remediationSteps:
        "Deploy an EvidenceTrail (components/evidenceTrail.ts) beside the evidence store, or give an existing trail an advanced event selector " +
        "{eventCategory Data, resources.type AWS::S3::Object, resources.ARN StartsWith <bucket ARN>/} without readOnly, enableLogFileValidation: true, " +
        "and a log bucket created with objectLockEnabled: true and a BucketObjectLockConfiguration in COMPLIANCE mode.",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkEvidenceAccessTrail(resources), "the stack has no evidence bucket"),
};
