/**
 * Buckets and the resources that configure them (lock, versioning, encryption, public access block), shared by
 * the S3 stack rules.
 */
import { TAGS } from "../../core/tags";
import { evidenceUse, effectiveTag, type EvidenceUse } from "./membership";
import { finding, knownString, listNames, Problems, TYPES, typeOfUrn, unknown, urnHasAncestorType, type Finding, type RuleResource } from "./model";
import { StackIndex, type LinkSpec } from "./stackIndex";

/** What a bucket-configuring resource's `bucket` may equal: the bucket's id or its name (the same for S3). */
export function bucketIds(bucket: RuleResource): string[] {
    return [knownString(bucket.props.id), knownString(bucket.props.bucket)].filter((v): v is string => v !== undefined);
}

const bucketLink = (types: readonly string[]): LinkSpec => ({ types, prop: "bucket", targetTypes: TYPES.buckets, identifiers: bucketIds });

/**
 * Every link from a bucket-configuring resource to its bucket (its `bucket` property). Buckets are the targets:
 * a known `bucket` naming another bucket wins over a dependency (stackIndex.ts).
 */
export const BUCKET_LINKS: readonly LinkSpec[] = [
    bucketLink(TYPES.lockConfigs),
    bucketLink(TYPES.versionings),
    bucketLink(TYPES.encryptions),
    bucketLink(TYPES.publicAccessBlocks),
];

/** Whether a bucket holds evidence, and why (for messages). */
export type EvidenceMembership =
    | { readonly kind: "evidence"; readonly why: string; /** held through the response's use, not its tag or store */ readonly byUse: boolean }
    | { readonly kind: "other" }
    | { readonly kind: "unknown"; readonly why: string };

/**
 * Whether a bucket holds evidence: created inside an `EvidenceStore` component (its parent, or an ancestor in its
 * URN); tagged `dfir:role=evidence` (the tag contract; own tags, else the provider's default tags); or named by a
 * function of the response in EVIDENCE_BUCKET (`use`, from membership.ts `evidenceUse`), whatever its tags. "unknown"
 * when none of these settles it and its tags, or the environment of a function that depends on it, are unknown.
 */
export function evidenceMembershipOf(bucket: RuleResource, use?: EvidenceUse): EvidenceMembership {
    if (typeOfUrn(bucket.parent) === TYPES.evidenceStore || urnHasAncestorType(bucket.urn, TYPES.evidenceStore)) {
        return { kind: "evidence", why: "created by an EvidenceStore", byUse: false };
    }
    const role = effectiveTag(bucket, TAGS.role);
    if (!role.unknown && role.value === TAGS.roleEvidence) return { kind: "evidence", why: `tagged ${TAGS.role}=${TAGS.roleEvidence}`, byUse: false };
    const used = use?.evidence.get(bucket.urn);
    if (used) return { kind: "evidence", why: used.why, byUse: true };
    if (role.unknown) return { kind: "unknown", why: role.why };
    const undecided = use?.undecided.get(bucket.urn);
    if (undecided) return { kind: "unknown", why: undecided.why };
    return { kind: "other" };
}

/** {@link evidenceMembershipOf} as a word (without the response's use of buckets unless `use` is given). */
export function evidenceMembership(bucket: RuleResource, use?: EvidenceUse): "evidence" | "other" | "unknown" {
    return evidenceMembershipOf(bucket, use).kind;
}

/**
 * The resources of `types` configuring `bucket`. Only links certain to be the bucket's count: a resource whose
 * unknown `bucket` depends on several buckets may configure any of them, and one whose known `bucket` names
 * another bucket configures that one. When none counts but some resource of those types may belong to it
 * (unknown bucket with no recorded dependency, or with several), the answer is unknowable: noted on `problems`,
 * and `undefined` returned so the caller reports neither a pass nor a missing resource.
 */
export function configsOf(
    index: StackIndex, bucket: RuleResource, types: readonly string[], problems: Problems, what: string,
): RuleResource[] | undefined {
    const linked = index.linked(bucket, types, "bucket", bucketIds(bucket));
    const certain = linked.filter((r) => !index.isAmbiguous(r, "bucket"));
    if (certain.length > 0) return certain;
    const ambiguous = linked.filter((r) => index.isAmbiguous(r, "bucket"));
    if (ambiguous.length > 0) {
        problems.unknownNote(`cannot tell whether ${what} ${listNames(ambiguous.map((r) => r.name))} belongs to it during preview: its bucket is unknown and comes from several buckets`);
        return undefined;
    }
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
    const use = evidenceUse(index);
    const findings: Finding[] = [];
    for (const bucket of index.ofTypes(TYPES.buckets)) {
        const membership = evidenceMembershipOf(bucket, use);
        if (membership.kind === "other") continue;
        if (membership.kind === "unknown") {
            findings.push(finding(bucket, unknown(`bucket ${bucket.name}: cannot check whether it is an evidence bucket during preview: ${membership.why}`)));
            continue;
        }
        const p = new Problems();
        check(bucket, index, p);
        findings.push(finding(bucket, p.verdict(`evidence bucket ${bucket.name}${membership.byUse ? ` (${membership.why})` : ""}`)));
    }
    return findings;
}
