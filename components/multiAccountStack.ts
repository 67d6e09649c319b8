import { signerRoleNamePrefixes } from "../core/iam";
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, triageOptionsOf, type MultiAccountStackConfig } from "../core/config";
import { triggerSources } from "../core/pattern";
import { partitionOf } from "../core/containmentPolicies";
import { DEFAULT_CAPTURE_PROFILE_NAME, DEFAULT_MEMORY_DOCUMENT_NAME } from "../core/memberPolicies";
import { hubResourceName, planDeployment, type DeploymentPlan, type DeploymentTarget, type MemberRegionPlan } from "../core/plan";
import { parseMemberAccessGrants, workflowRoleNamePrefixes } from "../core/organization";
import { EvidenceStore } from "./evidenceStore";
import { EvidenceTrail } from "./evidenceTrail";
import { ForensicWorkstation, workstationArgs } from "./forensicWorkstation";
import { GuardDutyDetection } from "./guardDutyDetection";
import { GuardDutyOrganization } from "./guardDutyOrganization";
import { HubEventBusPolicy } from "./hubEventBusPolicy";
import { MemberAccess } from "./memberAccess";
import { MemberRegion } from "./memberRegion";
import { ResponseWorkflow } from "./responseWorkflow";

/** Resource-name stem of a target: `dfir-<account>-<region>` (the provider's name with `dfir` for `aws`). */
const stem = (t: { accountId?: string; region: string }) => `dfir-${t.accountId}-${t.region}`;

/** The VPCs of every member region, by provider name: listed ones checked to exist there, "all" discovered. */
export type ResolvedVpcs = ReadonlyMap<string, readonly string[]>;

/**
 * Look up every member region's VPCs through its own provider, before any resource of the stack is registered:
 * a listed VPC that is not in that account and region (a typo, the wrong region) stops the preview with a one-line
 * error naming the config entry; "all" becomes the VPC ids the account has there at deploy time (sorted).
 */
export async function resolveVpcs(
    config: MultiAccountStackConfig,
    plan: DeploymentPlan,
    providers: ReadonlyMap<string, aws.Provider>,
): Promise<ResolvedVpcs> {
    const entry = (m: MemberRegionPlan) => {
        const index = config.multiAccount.members.findIndex((c) => c.accountId === m.accountId);
        return `${CONFIG_NAMESPACE}:members[${index}].regions.${m.region}.vpcs`;
    };
    const resolved = await Promise.all(plan.memberRegions.map(async (m): Promise<[string, string[]]> => {
        const provider = providers.get(m.providerName as string) as aws.Provider;
        if (m.vpcs === "all") {
            let ids: string[];
            try {
                ids = (await aws.ec2.getVpcs({}, { provider })).ids;
            } catch (error) {
                throw new Error(`config ${entry(m)}: cannot list the VPCs of account ${m.accountId} in ${m.region}: ${firstLine(error)}`);
            }
            if (ids.length === 0) pulumi.log.warn(`config ${entry(m)} is "all" but account ${m.accountId} has no VPC in ${m.region}: nothing there can be isolated`);
            return [m.providerName as string, [...ids].sort()];
        }
        await Promise.all(m.vpcs.map(async (id) => {
            try {
                await aws.ec2.getVpc({ id }, { provider });
            } catch (error) {
                throw new Error(`config ${entry(m)}: ${id} is not a VPC of account ${m.accountId} in ${m.region} (${firstLine(error)})`);
            }
        }));
        return [m.providerName as string, [...m.vpcs].sort()];
    }));
    return new Map(resolved);
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0];

/** One explicit provider per (account, region): the role to assume, the only account it may touch, default tags. */
export function createProviders(plan: DeploymentPlan): Map<string, aws.Provider> {
    return new Map(plan.targets.map((t) => [t.providerName as string, new aws.Provider(t.providerName as string, {
        region: t.region as aws.Region,
        allowedAccountIds: [...(t.allowedAccountIds ?? [])],
        ...(t.assumeRoleArn ? { assumeRoles: [{ roleArn: t.assumeRoleArn, sessionName: "aws-dfir-deploy" }] } : {}),
        defaultTags: { tags: { ...t.defaultTags } },
    })]));
}

/**
 * A multi-account, multi-region stack (docs/many-accounts.md): per hub region an evidence store,
 * the response workflow and (when members forward) the event bus policy, or the GuardDuty organization
 * configuration; per member region its isolation networks, memory document, detector and forwarder (and, with
 * `copySnapshotsToHub`, its snapshot share key); per account its `MemberAccess`. Every AWS resource goes through
 * the provider of its (account, region); names carry the account and region so that adding a member or a region
 * adds resources and renames none.
 */
export async function deployMultiAccount(config: MultiAccountStackConfig) {
    const plan = planDeployment(config);
    const { hub, organization, responderRoleName, copySnapshotsToHub, shard } = config.multiAccount;
    // The other stacks acting in these accounts (dfir:trustStacks): what they need granted, read from their outputs
    // before anything is declared (a missing, foreign or older stack stops the program in one line, nothing created).
    const otherStacks = await Promise.all(config.multiAccount.trustStacks.map(async (ref) =>
        parseMemberAccessGrants(ref, (await new pulumi.StackReference(ref).getOutputDetails("memberAccessGrants")).value, hub.accountId)));
    const providers = createProviders(plan);
    const vpcs = await resolveVpcs(config, plan, providers);
    const under = (t: DeploymentTarget): pulumi.ComponentResourceOptions => ({ providers: [providers.get(t.providerName as string) as aws.Provider] });
    const targetOf = (accountId: string, region: string) => plan.targets.find((t) => t.accountId === accountId && t.region === region) as DeploymentTarget;

    // Detectors: the member's own, or the hub's as the organization's administrator.
    const detectors = new Map<string, pulumi.Output<string>>();
    for (const t of plan.targets.filter((x) => x.createDetector)) {
        const detector = new GuardDutyDetection(`${stem(t)}-detector`, {
            ebsMalwareProtection: config.ebsMalwareProtection,
            runtimeMonitoring: config.runtimeMonitoring,
        }, under(t));
        detectors.set(t.providerName as string, detector.detectorId);
    }

    // With copySnapshotsToHub, each member region's share key admits its hub region's snapshot function role,
    // which exists only once that region's workflow is declared below: a deferred output per hub region, resolved
    // right after its workflow (the key still depends on the role; the role's policy on the keys).
    const snapshotRoles = new Map(copySnapshotsToHub ? plan.hubRegions.map((h) => [h.region, pulumi.deferredOutput<string[]>()] as const) : []);

    // Member regions first: the hub workflow of each region needs their isolation groups.
    const memberRegions = new Map<string, MemberRegion>();
    for (const m of plan.memberRegions) {
        const t = targetOf(m.accountId as string, m.region);
        const roles = snapshotRoles.get(m.region);
        memberRegions.set(m.providerName as string, new MemberRegion(stem(t), {
            vpcIds: vpcs.get(m.providerName as string) ?? [],
            untrackGroup: config.untrackConnections,
            memoryDocumentName: DEFAULT_MEMORY_DOCUMENT_NAME,
            ...(m.forwardFindingsTo ? {
                forwardTo: { hubAccountId: m.forwardFindingsTo.accountId, hubRegion: m.forwardFindingsTo.region, minSeverity: config.minSeverity, allowSamples: config.allowSamples, triggers: triageOptionsOf(config) },
            } : {}),
            ...(m.shareSnapshots && roles ? { snapshotShare: { hubSnapshotRoleArns: roles[0] } } : {}),
        }, under(t)));
    }
    const shareKeysOf = (regions: MemberRegion[]) => regions.flatMap((r) => (r.snapshotShareKeyArn ? [r.snapshotShareKeyArn] : []));

    const captureRoleArn = (accountId: string, region: string) => `arn:${partitionOf(region)}:iam::${accountId}:role/${DEFAULT_CAPTURE_PROFILE_NAME}`;
    const hubRegions = new Map<string, { store: EvidenceStore; workflow: ResponseWorkflow }>();
    const accessTrails = new Map<string, EvidenceTrail>();
    for (const h of plan.hubRegions) {
        const t = targetOf(hub.accountId, h.region);
        const name = (what: string) => hubResourceName(shard, what, h.region);
        const others = h.memberAccountIds.filter((a) => a !== hub.accountId);
        const store = new EvidenceStore(name("evidence"), {
            retentionDays: config.evidenceRetentionDays,
            breakGlassRoleArn: config.breakGlassRoleArn,
            avml: config.avml,
            memberCaptureRoleArns: others.map((a) => captureRoleArn(a, h.region)),
            manifestSignerRoleNamePrefixes: signerRoleNamePrefixes(name("response")),
        }, under(t));
        // Every read of this region's evidence, every attempt to delete it or change its retention (issue 17, item 4).
        accessTrails.set(h.region, new EvidenceTrail(name("access-trail"), {
            evidenceBucketArns: [store.bucketArn],
            retentionDays: store.retentionDays,
            breakGlassRoleArn: config.breakGlassRoleArn,
        }, under(t)));
        const here = plan.memberRegions.filter((m) => m.region === h.region).map((m) => memberRegions.get(m.providerName as string) as MemberRegion);
        const merge = (pick: (r: MemberRegion) => pulumi.Output<Record<string, string>>) =>
            pulumi.all(here.map(pick)).apply((maps) => Object.assign({}, ...maps) as Record<string, string>);
        const workflow = new ResponseWorkflow(name("response"), {
            isolationGroups: merge((r) => r.isolationGroups),
            untrackGroups: merge((r) => r.untrackGroups),
            evidence: {
                bucketName: store.bucketName,
                bucketArn: store.bucketArn,
                keyArn: store.keyArn,
                signingKeyArn: store.signingKeyArn,
                retentionDays: store.retentionDays,
                avml: store.avml,
            },
            approvalTimeoutSeconds: config.approvalTimeoutSeconds,
            approvalDefault: config.approvalDefault,
            snapshotCapHours: config.snapshotCapHours,
            memoryCapMinutes: config.memoryCapMinutes,
            minSeverity: config.minSeverity,
            allowSamples: config.allowSamples,
            // The rules admit this region's member accounts only: another stack may share the hub account (shard).
            triggers: { ...triageOptionsOf(config), accountIds: [...h.memberAccountIds] },
            notificationEmail: config.notificationEmail,
            logRetentionDays: config.logRetentionDays,
            crossAccount: {
                responderRoleName,
                memberAccountIds: others,
                captureProfileName: DEFAULT_CAPTURE_PROFILE_NAME,
                memoryDocumentName: DEFAULT_MEMORY_DOCUMENT_NAME,
                // Hub roles get no grants only members need: none on the hub's own instances unless it is a member here.
                ownInstances: h.memberAccountIds.includes(hub.accountId),
                ...(copySnapshotsToHub ? { copySnapshotsToHub, memberShareKeyArns: shareKeysOf(here) } : {}),
            },
        }, under(t));
        snapshotRoles.get(h.region)?.[1](pulumi.all([workflow.snapshotRoleArn]));
        if (h.forwardingAccountIds.length > 0) {
            new HubEventBusPolicy(name("bus-policy"), { memberAccountIds: h.forwardingAccountIds, organizationId: organization?.id, sources: triggerSources(triageOptionsOf(config)) }, under(t));
        }
        if (h.guardDutyAdministrator) {
            const detectorId = detectors.get(t.providerName as string)
                ?? aws.guardduty.getDetectorOutput({}, { provider: providers.get(t.providerName as string) }).id;
            new GuardDutyOrganization(name("guardduty-organization"), {
                detectorId,
                autoEnable: organization?.autoEnable,
                ebsMalwareProtection: config.ebsMalwareProtection,
                runtimeMonitoring: config.runtimeMonitoring,
            }, under(t));
        }
        hubRegions.set(h.region, { store, workflow });
    }

    // Per account: the responder role trusting the workflows of the regions it has members in (by role name).
    const accounts = [...new Set(plan.memberRegions.map((m) => m.accountId as string))].sort();
    const access = new Map<string, MemberAccess>();
    for (const accountId of config.multiAccount.memberAccess ? accounts : []) {
        const memberRegionsOf = (a: string) => plan.memberRegions.filter((m) => m.accountId === a).map((m) => m.region);
        const regions = memberRegionsOf(accountId).map((region) => hubRegions.get(region) as { store: EvidenceStore; workflow: ResponseWorkflow });
        const own = accountId === hub.accountId;
        const sharing = plan.memberRegions.filter((m) => m.accountId === accountId && m.shareSnapshots);
        access.set(accountId, new MemberAccess(`dfir-${accountId}-access`, {
            // The hub's own account is never assumed: its deny policy exempts the Contain roles instead.
            ...(own ? { exemptRoleArns: regions.map((r) => r.workflow.containRoleArn) } : {
                trustees: { hubAccountId: hub.accountId, roleNamePrefixes: workflowRoleNamePrefixes(shard, memberRegionsOf(accountId)) },
            }),
            ...(config.multiAccount.trustStacks.length > 0 ? { otherStacks } : {}),
            ...(organization?.id ? { organizationId: organization.id } : {}),
            ...(config.multiAccount.analystRoleArns.length > 0 ? { analystRoleArns: config.multiAccount.analystRoleArns } : {}),
            responderRoleName,
            captureProfileName: DEFAULT_CAPTURE_PROFILE_NAME,
            memoryDocumentName: DEFAULT_MEMORY_DOCUMENT_NAME,
            evidenceBucketArns: regions.map((r) => r.store.bucketArn),
            evidenceKeyArns: regions.map((r) => r.store.keyArn),
            responder: !own,
            ...(sharing.length > 0 ? {
                snapshotShare: {
                    hubAccountId: hub.accountId,
                    shareKeyArns: shareKeysOf(sharing.map((m) => memberRegions.get(m.providerName as string) as MemberRegion)),
                },
            } : {}),
        }, under(targetOf(accountId, hub.homeRegion))));
    }

    // The forensic workstation: in the hub account, one hub region (plan.workstation), reading that region's
    // evidence store only — its S3 gateway endpoint reaches no other region's bucket, and EBS makes volumes from a
    // snapshot only in the snapshot's region, so it serves the cases of its own region (docs/analyst-guide.md: "dfir attach").
    let workstation: ForensicWorkstation | undefined;
    if (config.workstation && plan.workstation) {
        const region = plan.workstation.region;
        const { store } = hubRegions.get(region) as { store: EvidenceStore };
        workstation = new ForensicWorkstation(hubResourceName(shard, "workstation", region), workstationArgs(config.workstation, store), under(targetOf(hub.accountId, region)));
    }

    const byRegion = <T>(pick: (h: { store: EvidenceStore; workflow: ResponseWorkflow }) => T) =>
        Object.fromEntries([...hubRegions.entries()].map(([region, h]) => [region, pick(h)]));
    return {
        hubAccountId: hub.accountId,
        // What the stack that creates these accounts' roles must grant this one (its dfir:trustStacks names this stack).
        memberAccessGrants: {
            hubAccountId: hub.accountId,
            roleNamePrefixes: workflowRoleNamePrefixes(shard, plan.hubRegions.map((h) => h.region)),
            evidenceBucketArns: [...hubRegions.values()].map((h) => h.store.bucketArn),
            evidenceKeyArns: [...hubRegions.values()].map((h) => h.store.keyArn),
        },
        evidenceBuckets: byRegion((h) => h.store.bucketName),
        manifestSigningKeyArns: byRegion((h) => h.store.signingKeyArn),
        manifestSigningPublicKeys: byRegion((h) => h.store.signingPublicKeyPem),
        accessTrailBuckets: Object.fromEntries([...accessTrails.entries()].map(([region, trail]) => [region, trail.bucketName])),
        stateMachineArns: byRegion((h) => h.workflow.stateMachineArn),
        notificationTopicArns: byRegion((h) => h.workflow.topicArn),
        deadLetterQueueUrls: byRegion((h) => h.workflow.deadLetterQueueUrl),
        casesTableNames: byRegion((h) => h.workflow.casesTableName),
        ...(workstation && plan.workstation ? {
            workstation: {
                region: plan.workstation.region,
                instanceId: workstation.instanceId,
                availabilityZone: workstation.availabilityZone,
                securityGroupId: workstation.securityGroupId,
                vpcId: workstation.vpcId,
            },
        } : {}),
        members: Object.fromEntries(accounts.map((a) => {
            const m = access.get(a);
            return [a, {
                ...(m?.responderRoleArn ? { responderRoleArn: m.responderRoleArn } : {}),
                ...(m ? { captureProfileArn: m.captureProfileArn, denyModifyIsolatedPolicyArn: m.denyModifyIsolatedPolicyArn } : {}),
                isolationGroups: Object.fromEntries(plan.memberRegions.filter((r) => r.accountId === a)
                    .map((r) => [r.region, (memberRegions.get(r.providerName as string) as MemberRegion).isolationGroups])),
            }];
        })),
    };
}
