/**
 * Evidence buckets are encrypted with KMS (SSE-KMS or DSSE-KMS) by default: key policies and CloudTrail
 * data events then record every decryption of evidence. Advisory by default.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { configsOf, evidenceBucketFindings } from "../lib/buckets";
import { asList, isObject, isUnknown, TYPES, type Finding, type RuleResource } from "../lib/model";
import { runStackRule } from "../lib/pack";

export const NAME = "evidence-bucket-kms-encryption";

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

/** The rule, as a pure function of the stack: one finding per evidence bucket. */
export function checkEvidenceBucketKmsEncryption(resources: Iterable<RuleResource>): Finding[] {
    return evidenceBucketFindings(resources, (bucket, index, p) => {
        const encryptions = configsOf(index, bucket, TYPES.encryptions, p, "encryption configuration");
        if (encryptions !== undefined && encryptions.length === 0) {
            p.violation("it has no BucketServerSideEncryptionConfiguration — add one with applyServerSideEncryptionByDefault.sseAlgorithm \"aws:kms\" and its own key");
        }
        for (const e of encryptions ?? []) {
            const rules = e.props.rules;
            if (isUnknown(rules)) {
                p.unknownValue(`the rules of encryption configuration ${e.name}`);
                continue;
            }
            const algorithms = asList(rules).map((r) => (isObject(r) && isObject(r.applyServerSideEncryptionByDefault) ? r.applyServerSideEncryptionByDefault.sseAlgorithm : undefined));
            if (algorithms.some(isUnknown)) p.unknownValue(`the algorithm of encryption configuration ${e.name}`);
            else if (!algorithms.some((a) => typeof a === "string" && KMS_ALGORITHMS.includes(a))) {
                const found = algorithms.filter((a): a is string => typeof a === "string");
                p.violation(`encryption configuration ${e.name} uses ${found.length > 0 ? found.join(", ") : "no default algorithm"} — set applyServerSideEncryptionByDefault.sseAlgorithm to "aws:kms" with a customer managed key`);
            }
        }
    });
}

export const policy: StackValidationPolicy = {
    name: NAME,
    displayName: "Evidence buckets are encrypted with KMS",
    description: "Every evidence bucket has a BucketServerSideEncryptionConfiguration whose default algorithm is aws:kms (or aws:kms:dsse).",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["s3", "evidence", "encryption"],
    remediationSteps:
        "Add an aws.s3.BucketServerSideEncryptionConfiguration on the evidence bucket with rules: [{applyServerSideEncryptionByDefault: " +
        "{sseAlgorithm: \"aws:kms\", kmsMasterKeyId: <a rotating customer managed key>}, bucketKeyEnabled: true}].",
    validateStack: (args, report) =>
        runStackRule(args, report, () => undefined, (resources) => checkEvidenceBucketKmsEncryption(resources), "the stack has no evidence bucket"),
};
