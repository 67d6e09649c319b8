/**
 * Buckets and the resources that configure them (lock, versioning, encryption, public access block), shared by
 * the S3 stack rules.
 */
import { TAGS } from "../../core/tags";
import { finding, knownString, listNames, Problems, tagOf, TYPES, typeOfUrn, unknown, urnHasAncestorType, type Finding, type RuleResource } from "./model";
import { StackIndex } from "./stackIndex";

/** Every link from a bucket-configuring resource to its bucket (its `bucket` property). */
export const BUCKET_LINKS = [
    { types: TYPES.lockConfigs, prop: "bucket" },
    { types: TYPES.versionings, prop: "bucket" },
    { types: TYPES.encryptions, prop: "bucket" },
    { types: TYPES.publicAccessBlocks, prop: "bucket" },
] as const;

/** What a bucket-configuring resource's `bucket` may equal: the bucket's id or its name (the same for S3). */
export function bucketIds(bucket: RuleResource): string[] {
    return [knownString(bucket.props.id), knownString(bucket.props.bucket)].filter((v): v is string => v !== undefined);
}

/**
 * Whether a bucket holds evidence: tagged `dfir:role=evidence` (the tag contract), or created inside an
 * `EvidenceStore` component (its parent, or an ancestor in its URN). "unknown" when its tags are unknown
 * and its parentage does not settle it.
 */
export function evidenceMembership(bucket: RuleResource): "evidence" | "other" | "unknown" {
    if (typeOfUrn(bucket.parent) === TYPES.evidenceStore || urnHasAncestorType(bucket.urn, TYPES.evidenceStore)) return "evidence";
    const role = tagOf(bucket.props, TAGS.role);
    if (role.unknown) return "unknown";
    return role.value === TAGS.roleEvidence ? "evidence" : "other";
}

/**
 * The resources of `types` configuring `bucket`. When there are none but some resource of those types has an
 * unknown bucket (and no recorded dependency), the answer is unknowable: noted on `problems`, and `undefined`
 * returned so the caller reports neither a pass nor a missing resource.
 */
export function configsOf(
    index: StackIndex, bucket: RuleResource, types: readonly string[], problems: Problems, what: string,
): RuleResource[] | undefined {
    const linked = index.linked(bucket, types, "bucket", bucketIds(bucket));
    if (linked.length > 0) return linked;
    const unresolved = index.unresolved(types, "bucket");
    if (unresolved.length > 0) {
        problems.unknownNote(`cannot tell whether ${what} ${listNames(unresolved.map((r) => r.name))} belongs to it during preview: its bucket is unknown`);
        return undefined;
    }
    return [];
}

/**
 * One finding per evidence bucket of the stack (the loop the evidence rules share): `check` adds the bucket's
 * problems to `p`. A bucket whose evidence role is unknown at preview gets an advisory note instead of a check.
 */
export function evidenceBucketFindings(
    resources: Iterable<RuleResource>,
    check: (bucket: RuleResource, index: StackIndex, p: Problems) => void,
): Finding[] {
    const index = new StackIndex(resources, BUCKET_LINKS);
    const findings: Finding[] = [];
    for (const bucket of index.ofTypes(TYPES.buckets)) {
        const membership = evidenceMembership(bucket);
        if (membership === "other") continue;
        if (membership === "unknown") {
            findings.push(finding(bucket, unknown(`bucket ${bucket.name}: cannot check whether it is an evidence bucket during preview: its tags are unknown`)));
            continue;
        }
        const p = new Problems();
        check(bucket, index, p);
        findings.push(finding(bucket, p.verdict(`evidence bucket ${bucket.name}`)));
    }
    return findings;
}
