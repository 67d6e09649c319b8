import { signerRoleNamePrefixes } from "../core/iam";
import * as pulumi from "@pulumi/pulumi";
import { checkWorkstationZone, triageOptionsOf, type SingleAccountConfig } from "../core/config";
import { EvidenceStore } from "./evidenceStore";
import { EvidenceTrail } from "./evidenceTrail";
import { ForensicWorkstation, workstationArgs } from "./forensicWorkstation";
import { GuardDutyDetection } from "./guardDutyDetection";
import { IsolationNetwork } from "./isolationNetwork";
import { ResponseWorkflow } from "./responseWorkflow";

/**
 * One account, one region: detection, the evidence store, the isolation network of the configured VPC and
 * the response workflow wired to it. Child names are fixed ("dfir-*"): a config change must never rename,
 * and so replace, an evidence bucket.
 */
export function deployDfir(config: SingleAccountConfig) {
    // A workstation zone outside the stack's region stops the program before any resource (one line).
    const region = new pulumi.Config("aws").get("region");
    if (config.workstation && region) checkWorkstationZone(config.workstation, region);
    const detection = config.manageDetector
        ? new GuardDutyDetection("dfir-detector", {
            ebsMalwareProtection: config.ebsMalwareProtection,
            runtimeMonitoring: config.runtimeMonitoring,
        })
        : undefined;
    const evidence = new EvidenceStore("dfir-evidence", {
        retentionDays: config.evidenceRetentionDays,
        breakGlassRoleArn: config.breakGlassRoleArn,
        avml: config.avml,
        // The seal's and the digest step's roles (`dfir-response-seal-<suffix>`, ...) are the only signers.
        manifestSignerRoleNamePrefixes: signerRoleNamePrefixes("dfir-response"),
    });
    // Every read of the evidence, every attempt to delete it or change its retention (issue 17, item 4).
    const accessTrail = new EvidenceTrail("dfir-access-trail", {
        evidenceBucketArns: [evidence.bucketArn],
        retentionDays: evidence.retentionDays,
        breakGlassRoleArn: config.breakGlassRoleArn,
    });
    const network = new IsolationNetwork("dfir-isolation", {
        vpcId: config.vpcId,
        createEndpoints: config.createEndpoints,
        endpointSecurityGroupId: config.endpointSecurityGroupId,
        endpointSubnetIds: config.endpointSubnetIds,
        endpointRouteTableIds: config.endpointRouteTableIds,
        untrackGroup: config.untrackConnections,
    });
    const workflow = new ResponseWorkflow("dfir-response", {
        isolationGroups: { [config.vpcId]: network.securityGroupId },
        untrackGroups: network.untrackSecurityGroupId ? { [config.vpcId]: network.untrackSecurityGroupId } : {},
        evidence: {
            bucketName: evidence.bucketName,
            bucketArn: evidence.bucketArn,
            keyArn: evidence.keyArn,
            signingKeyArn: evidence.signingKeyArn,
            retentionDays: evidence.retentionDays,
            avml: evidence.avml,
        },
        approvalTimeoutSeconds: config.approvalTimeoutSeconds,
        approvalDefault: config.approvalDefault,
        snapshotCapHours: config.snapshotCapHours,
        memoryCapMinutes: config.memoryCapMinutes,
        isolatedInstanceScp: config.isolatedInstanceScp,
        minSeverity: config.minSeverity,
        allowSamples: config.allowSamples,
        triggers: triageOptionsOf(config),
        notificationEmail: config.notificationEmail,
        logRetentionDays: config.logRetentionDays,
    });
    // Optional, and named apart ("dfir-workstation"): turning it on or off adds or removes only its own resources.
    const workstation = config.workstation
        ? new ForensicWorkstation("dfir-workstation", workstationArgs(config.workstation, { bucketArn: evidence.bucketArn, keyArn: evidence.keyArn }))
        : undefined;
    return {
        detectorId: detection?.detectorId,
        evidenceBucket: evidence.bucketName,
        manifestSigningKeyArn: evidence.signingKeyArn,
        manifestSigningPublicKey: evidence.signingPublicKeyPem,
        accessTrailBucket: accessTrail.bucketName,
        isolationSecurityGroupId: network.securityGroupId,
        stateMachineArn: workflow.stateMachineArn,
        notificationTopicArn: workflow.topicArn,
        deadLetterQueueUrl: workflow.deadLetterQueueUrl,
        casesTableName: workflow.casesTableName,
        denyModifyIsolatedPolicyArn: workflow.denyModifyIsolatedPolicyArn,
        ...(workstation ? {
            workstation: {
                instanceId: workstation.instanceId,
                availabilityZone: workstation.availabilityZone,
                securityGroupId: workstation.securityGroupId,
                vpcId: workstation.vpcId,
            },
        } : {}),
    };
}
