/**
 * Buckets and the resources that configure them (lock, versioning, encryption, public access block), shared by
 * the S3 stack rules.
 */
import { TAGS } from "../../core/tags";
import { knownString, listNames, Problems, tagOf, TYPES, typeOfUrn, urnHasAncestorType, type RuleResource } from "./model";
import type { StackIndex } from "./stackIndex";

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
