/**
 * The forensic workstation's permissions, as pure functions of the ARNs they name (the component serialises them,
 * tests read them without Pulumi): read the evidence, nothing else. The instance reaches AWS only through its
 * VPC's endpoints, so the S3 gateway endpoint's own policy narrows it again to the evidence buckets (and the
 * regional buckets the SSM agent itself reads).
 */
import { oneOrMany, type PolicyDocument, type PolicyStatement } from "./iam";

/** Every action the workstation's role is granted on the evidence (besides AmazonSSMManagedInstanceCore). */
export const WORKSTATION_EVIDENCE_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "kms:Decrypt"] as const;


/**
 * The workstation role's inline policy: read every object version of the evidence buckets, list them, decrypt
 * with their keys. No write, no delete, no tagging, no other bucket. Snapshots need nothing here: the analyst's
 * `dfir attach` creates the volumes with the analyst's own credentials, and an attached volume needs no KMS
 * permission of the instance.
 */
export function workstationPolicy(bucketArns: readonly string[], keyArns: readonly string[]): PolicyDocument {
    if (bucketArns.length === 0 || keyArns.length === 0) throw new Error("workstationPolicy: at least one evidence bucket ARN and one key ARN are required");
    const statements: PolicyStatement[] = [
        { Sid: "ReadEvidenceObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: oneOrMany(bucketArns.map((b) => `${b}/*`)) },
        { Sid: "ListEvidenceBuckets", Effect: "Allow", Action: "s3:ListBucket", Resource: oneOrMany(bucketArns) },
        { Sid: "DecryptEvidence", Effect: "Allow", Action: "kms:Decrypt", Resource: oneOrMany(keyArns) },
    ];
    return { Version: "2012-10-17", Statement: statements };
}

/**
 * The regional S3 buckets the SSM agent reads (its updates, documents' attachments, distributor packages, patch
 * baselines), from "SSM Agent communications with AWS managed S3 buckets". Reads only.
 */
export function ssmAgentBuckets(region: string): string[] {
    return [
        `aws-ssm-${region}`,
        `amazon-ssm-${region}`,
        `amazon-ssm-packages-${region}`,
        `${region}-birdwatcher-prod`,
        `aws-ssm-distributor-file-${region}`,
        `aws-ssm-document-attachments-${region}`,
        `patch-baseline-snapshot-${region}`,
    ];
}

/**
 * The analysis VPC's S3 gateway endpoint policy: whoever is in the VPC may read the evidence buckets (get, get a
 * version, list) and the SSM agent's regional buckets; nothing else goes through the endpoint (no upload
 * anywhere, no other bucket). The instance's own role narrows it further (its policy above).
 */
export function workstationEndpointPolicy(partition: string, region: string, bucketArns: readonly string[]): PolicyDocument {
    if (bucketArns.length === 0) throw new Error("workstationEndpointPolicy: at least one evidence bucket ARN is required");
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadEvidence", Effect: "Allow", Principal: "*", Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"], Resource: bucketArns.flatMap((b) => [b, `${b}/*`]) },
            { Sid: "SsmAgentBuckets", Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: ssmAgentBuckets(region).map((b) => `arn:${partition}:s3:::${b}/*`) },
        ],
    };
}
