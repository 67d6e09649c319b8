/**
 * Every policy of the aws-dfir pack, in one list. Importing this starts nothing: `index.ts` hands the list to
 * `new PolicyPack(...)`, which serves it; tests import the list and the rules directly.
 *
 * Mandatory: what makes evidence admissible and containment real. Advisory (raise to mandatory with
 * `--policy-pack-config` {"<name>": "mandatory"}): defence in depth and response speed.
 */
import type { Policies } from "@pulumi/policy";
import * as awsServiceQuotas from "./rules/aws-service-quotas";
import * as evidenceAccessTrail from "./rules/evidence-access-trail";
import * as evidenceBucketKmsEncryption from "./rules/evidence-bucket-kms-encryption";
import * as evidenceBucketObjectLock from "./rules/evidence-bucket-object-lock";
import * as evidenceBucketVersioning from "./rules/evidence-bucket-versioning";
import * as evidenceSnapshotLock from "./rules/evidence-snapshot-lock";
import * as guardDutyFindingFrequency from "./rules/guardduty-finding-frequency";
import * as guardDutyRuleSeverity from "./rules/guardduty-rule-admits-high-severity";
import * as iamNoWildcardActions from "./rules/iam-no-wildcard-actions";
import * as isolationGroupEgress from "./rules/isolation-group-egress-endpoints-only";
import * as isolationGroupNoIngress from "./rules/isolation-group-no-ingress";
import * as kmsEvidenceKeyRotation from "./rules/kms-evidence-key-rotation";
import * as manifestSigningKey from "./rules/manifest-signing-key";
import * as s3NoPublicAcl from "./rules/s3-no-public-acl";
import * as s3NoPublicBucketPolicy from "./rules/s3-no-public-bucket-policy";
import * as s3PublicAccessBlock from "./rules/s3-public-access-block";
import * as stateMachineLogging from "./rules/state-machine-logging";
import * as workstationEncryptedVolumes from "./rules/workstation-encrypted-volumes";
import * as workstationNoPublicIp from "./rules/workstation-no-public-ip";

export const PACK_NAME = "aws-dfir";

export const policies: Policies = [
    // Mandatory
    evidenceBucketObjectLock.policy,
    s3PublicAccessBlock.policy,
    s3NoPublicAcl.policy,
    s3NoPublicBucketPolicy.policy,
    isolationGroupNoIngress.policy,
    isolationGroupEgress.policy,
    // The workstation reads evidence from compromised hosts: its address is held to the isolation contract its
    // group already is (mandatory).
    workstationNoPublicIp.policy,
    // Issue 17: the disk evidence is locked, and every case manifest is signed (mandatory on every stack).
    evidenceSnapshotLock.policy,
    manifestSigningKey.policy,
    // Who read the evidence, who tried to delete it or change its retention: on record, and the record locked.
    evidenceAccessTrail.policy,
    // Issue 18: what the stack asks AWS for fits AWS's size quotas, or `pulumi up` fails half-way (core/quotas.ts).
    awsServiceQuotas.policy,
    // Advisory
    evidenceBucketVersioning.policy,
    evidenceBucketKmsEncryption.policy,
    stateMachineLogging.policy,
    guardDutyFindingFrequency.policy,
    guardDutyRuleSeverity.policy,
    iamNoWildcardActions.policy,
    // Defence in depth for evidence at rest, like the evidence buckets' KMS encryption.
    kmsEvidenceKeyRotation.policy,
    workstationEncryptedVolumes.policy,
];
