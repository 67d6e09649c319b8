/**
 * IAM as the program deploys it, put into a simulated world: every role's trust and permissions, the evidence
 * bucket's policy, the evidence, notification and share keys' policies. Nothing here writes a policy document:
 * each comes from the same pure builder the components call (`core/iam.ts` `responseFunctionPolicy`,
 * `stateMachinePolicy`, `capturePolicy`, `evidenceBucketPolicy`, `evidenceKeyPolicy`, `notificationKeyPolicy`,
 * `snapshotShareKeyPolicy`, `manifestSigningKeyPolicy`; `core/memberPolicies.ts` `responderTrustPolicy`, `memberResponderRolePolicy`,
 * `memberCapturePolicy`), with the inputs the components pass, for the stack the world stands for:
 *
 * - one account (the instance in the hub's account, no members): `deployDfir` — `ResponseWorkflow("dfir-response")`,
 *   its own capture role, `EvidenceStore("dfir-evidence")` without member writers;
 * - several accounts: `deployMultiAccount` — per hub region `ResponseWorkflow("dfir-response-<region>")` with
 *   `crossAccount`, `EvidenceStore` admitting the members' capture roles, per member `MemberAccess` (responder role
 *   trusting the workflows' member-acting function roles, capture role) and, with `copySnapshotsToHub`,
 *   `MemberRegion`'s share key admitting the hub region's snapshot role.
 *
 * Resource names follow the simulator's (`SimOptions.names`), as a stack configured with those names would have
 * them. test/iam-deployment.test.ts holds these documents against the ones the mocked program registers.
 */
import { partitionOf } from "../../../core/containmentPolicies";
import { hubResourceName } from "../../../core/plan";
import { workflowRoleNamePrefixes } from "../../../core/organization";
import {
    capturePolicy, componentMachineScope, evidenceBucketPolicy, evidenceKeyPolicy, manifestSigningKeyPolicy, signerRoleNamePrefixes, notificationKeyPolicy, RESPONSE_FUNCTIONS,
    responseFunctionPolicy, serviceTrustPolicy, snapshotShareKeyPolicy, stateMachinePolicy, type PolicyDocument, type ResponseResources,
} from "../../../core/iam";
import {
    ANALYST_ACCESS_ROLE_NAME, analystAccessTrustPolicy, memberAnalystAccessPolicy, memberCapturePolicy, memberResponderRolePolicy, responderTrustPolicy,
    SNAPSHOT_SHARE_KEY_ALIAS,
} from "../../../core/memberPolicies";
import { ACCESS_TRAIL_NAME, namesOf, seedKmsKey, seedSigningKey, type SimOptions } from "../seed";
import { trailArnOf, trailBucketPolicy } from "../../../core/accessTrail";
import { AMAZON_SSM_MANAGED_INSTANCE_CORE } from "./awsManaged";
import { SSM_MANAGED_INSTANCE_CORE } from "../../../core/iam";
import type { RoleState } from "../state";
import type { World } from "../world";

/** The analyst's role (the `dfir` CLI's caller): the project deploys none; see {@link ANALYST_POLICY}. */
export const ANALYST_ROLE_NAME = "dfir-analyst";
/**
 * What the simulated analyst may do: everything, as an administrator of the hub account would (the project
 * deploys no analyst role, so the drill assumes the usual incident-responder administrator). Resource policies
 * (the evidence bucket's tamper and TLS denials, key policies, member trust policies) still bind it.
 */
export const ANALYST_POLICY: PolicyDocument = { Version: "2012-10-17", Statement: [{ Sid: "Administrator", Effect: "Allow", Action: "*", Resource: "*" }] };

const json = (d: PolicyDocument): string => JSON.stringify(d);

/** The component name of a hub region's workflow: single-account `dfir-response`, multi-account `dfir-response-<region>`. */
export function workflowComponent(multiAccount: boolean, region: string): string {
    return multiAccount ? hubResourceName(undefined, "response", region) : "dfir-response";
}

function role(world: World, accountId: string, name: string, trust: PolicyDocument): RoleState {
    const iam = world.account(accountId).iam;
    const existing = iam.roles[name];
    const trustPolicy = json(trust);
    if (existing) {
        existing.trustPolicy = trustPolicy;
        return existing;
    }
    const created: RoleState = {
        roleName: name,
        roleId: `AROA${world.token("role-id", 17)}`,
        arn: `arn:${partitionOf(world.state.region)}:iam::${accountId}:role/${name}`,
        path: "/",
        createdAt: world.now(),
        trustedAccounts: [],
        policies: {},
        trustPolicy,
    };
    iam.roles[name] = created;
    return created;
}

/** Put (or refresh) the deployed IAM of the world's deployment. Idempotent; run again after seeding more accounts. */
export function deployIam(world: World): void {
    const state = world.state;
    if (state.seedOptions.iam === false) return;
    const home = state.homeAccountId;
    const names = namesOf(state.seedOptions as SimOptions);
    const p = partitionOf(state.region);
    const deployment = state.deployment;
    const workload = Object.keys(deployment.captureProfileArns).sort();
    const members = workload.filter((a) => a !== home);
    const multi = members.length > 0;
    const hubRegions = Object.entries(world.account(home).regions).filter(([, r]) => r.tables[names.casesTable] !== undefined).map(([region]) => region).sort();
    const memberRegions = (accountId: string) => Object.entries(world.account(accountId).regions).filter(([, r]) => r.documents[names.memoryDocument] !== undefined).map(([region]) => region).sort();
    const captureRoleArn = (accountId: string) => `arn:${p}:iam::${accountId}:role/${names.captureProfileName}`;
    const responderRoleArn = (accountId: string) => `arn:${p}:iam::${accountId}:role/${names.responderRoleName}`;
    const bucketName = (region: string) => names.evidenceBucket.replace("{account}", home).replace("{region}", region);
    const evidenceKey = (region: string) => seedKmsKey(world, home, region, "alias/dfir-evidence", "aws-dfir evidence");
    const signingKey = (region: string) => seedSigningKey(world, home, region, bucketName(region));
    const shareKey = (accountId: string, region: string) => Object.values(world.region(accountId, region).kmsKeys ?? {}).find((k) => k.aliases.includes(SNAPSHOT_SHARE_KEY_ALIAS));

    const components: Record<string, string> = {};
    for (const region of hubRegions) {
        const component = workflowComponent(multi, region);
        components[region] = component;
        const scope = { partition: p, region, accountId: home };
        const here = members.filter((a) => memberRegions(a).includes(region));
        const bucketArn = `arn:${p}:s3:::${bucketName(region)}`;
        const keyArn = evidenceKey(region);
        const resources: ResponseResources = {
            casesTableArn: `arn:${p}:dynamodb:${region}:${home}:table/${names.casesTable}`,
            evidenceBucketArn: bucketArn,
            evidenceKeyArn: keyArn,
            memoryDocumentArn: `arn:${p}:ssm:${region}:${home}:document/${names.memoryDocument}`,
            captureRoleArn: captureRoleArn(home),
            manifestSigningKeyArn: signingKey(region),
            ...(here.length > 0 ? { responderRoleArns: here.map(responderRoleArn) } : {}),
            // As components/multiAccountStack.ts decides them: the hub has instances here only as a member here, and
            // Contain's network ACL rules are scoped to the VPCs the workflow's groups were prepared in.
            ...(multi && !(workload.includes(home) && memberRegions(home).includes(region)) ? { ownInstances: false } : {}),
            ...(Object.keys(deployment.isolationGroups).length > 0 ? { vpcIds: Object.keys(deployment.isolationGroups).sort() } : {}),
            ...(multi && deployment.copySnapshotsToHub
                ? { snapshotCopy: { memberShareKeyArns: here.flatMap((a) => (shareKey(a, region) ? [(shareKey(a, region) as { arn: string }).arn] : [])) } }
                : {}),
        };
        const functionArns: string[] = [];
        for (const fn of RESPONSE_FUNCTIONS) {
            const logGroupArn = `arn:${p}:logs:${region}:${home}:log-group:/aws/lambda/${component}-${fn}`;
            const r = role(world, home, `${component}-${fn}`, serviceTrustPolicy("lambda.amazonaws.com"));
            r.policies[`${component}-${fn}`] = json(responseFunctionPolicy(fn, component, scope, resources, logGroupArn));
            functionArns.push(`arn:${p}:lambda:${region}:${home}:function:${component}-${fn}`);
        }
        // The notification topic's key, and the state machine that publishes to it (the drill's notify states).
        const topicKeyArn = seedKmsKey(world, home, region, "alias/dfir-notifications", "aws-dfir notifications");
        const topicKey = Object.values(world.region(home, region).kmsKeys ?? {}).find((k) => k.arn === topicKeyArn);
        if (topicKey) topicKey.policy = json(notificationKeyPolicy(p, home));
        const machine = role(world, home, `${component}-state-machine`, serviceTrustPolicy("states.amazonaws.com", home));
        machine.policies[`${component}-state-machine`] = json(stateMachinePolicy(functionArns, [`arn:${p}:sns:${region}:${home}:${names.topicName}`], topicKeyArn, componentMachineScope(scope, component)));
        // The evidence store: bucket policy, key policy (member capture roles admitted in a multi-account stack).
        const writers = multi ? here.map(captureRoleArn) : [];
        const bucket = state.buckets[bucketName(region)];
        if (bucket) {
            bucket.policy = json(evidenceBucketPolicy(bucketArn, state.seedOptions.breakGlassRoleArn, writers));
            bucket.kmsKeyArn = keyArn;
        }
        const key = Object.values(world.region(home, region).kmsKeys ?? {}).find((k) => k.arn === keyArn);
        if (key) key.policy = json(evidenceKeyPolicy(p, home, writers));
        // The manifest-signing key: only the seal's role signs (its name starts with `<component>-seal`).
        const signer = Object.values(world.region(home, region).kmsKeys ?? {}).find((k) => k.arn === resources.manifestSigningKeyArn);
        if (signer) signer.policy = json(manifestSigningKeyPolicy(p, home, signerRoleNamePrefixes(component)));
        // The access trail (EvidenceTrail): named per region in a multi-account stack; its bucket's policy.
        const trailBucket = names.accessTrailBucket.replace("{account}", home).replace("{region}", region);
        const trail = state.trails?.[trailBucket];
        if (trail) {
            trail.name = multi ? `${ACCESS_TRAIL_NAME}-${region}` : ACCESS_TRAIL_NAME;
            trail.arn = trailArnOf(p, region, home, trail.name);
            const logs = state.buckets[trailBucket];
            if (logs) logs.policy = json(trailBucketPolicy(`arn:${p}:s3:::${trailBucket}`, trail.arn, home, state.seedOptions.breakGlassRoleArn));
        }
    }

    // Capture roles: one per account hosting instances (the hub's own included).
    for (const accountId of workload) {
        const capture = role(world, accountId, names.captureProfileName, serviceTrustPolicy("ec2.amazonaws.com"));
        const regions = multi ? hubRegions.filter((region) => accountId === home || memberRegions(accountId).includes(region)) : hubRegions;
        const buckets = regions.map((region) => `arn:${p}:s3:::${bucketName(region)}`);
        const keys = regions.map(evidenceKey);
        capture.policies[names.captureProfileName] = json(multi ? memberCapturePolicy(buckets, keys) : capturePolicy(buckets[0] as string, keys[0] as string));
        capture.awsManagedPolicies = { ...capture.awsManagedPolicies, [SSM_MANAGED_INSTANCE_CORE]: AMAZON_SSM_MANAGED_INSTANCE_CORE };
    }

    // Member accounts: the responder role (when the account has one) and, with copySnapshotsToHub, the share keys.
    for (const accountId of members) {
        const regions = memberRegions(accountId).filter((region) => hubRegions.includes(region));
        const responder = world.account(accountId).iam.roles[names.responderRoleName];
        if (responder) {
            responder.trustPolicy = json(responderTrustPolicy({ partition: p, hubAccountId: home, roleNamePrefixes: workflowRoleNamePrefixes(undefined, regions) }));
            // The stack is configured with the analyst's role in dfir:analystRoleArns: MemberAccess gives the account
            // the analyst access role the dfir CLI assumes for a member's case (plan, verify, release).
            const access = role(world, accountId, ANALYST_ACCESS_ROLE_NAME, analystAccessTrustPolicy([`arn:${p}:iam::${home}:role/${ANALYST_ROLE_NAME}`]));
            access.policies[ANALYST_ACCESS_ROLE_NAME] = json(memberAnalystAccessPolicy(p, accountId));
            const keys = regions.flatMap((region) => (shareKey(accountId, region) ? [(shareKey(accountId, region) as { arn: string }).arn] : []));
            responder.policies[names.responderRoleName] = json(memberResponderRolePolicy({
                partition: p,
                accountId,
                responderRoleArn: responder.arn,
                captureRoleArn: captureRoleArn(accountId),
                memoryDocumentName: names.memoryDocument,
                evidenceBucketArns: (multi ? hubRegions.filter((region) => memberRegions(accountId).includes(region)) : hubRegions).map((region) => `arn:${p}:s3:::${bucketName(region)}`),
                ...(deployment.copySnapshotsToHub && keys.length > 0 ? { snapshotShare: { hubAccountId: home, shareKeyArns: keys } } : {}),
            }));
        }
        for (const region of regions) {
            const key = shareKey(accountId, region);
            if (key) key.policy = json(snapshotShareKeyPolicy(p, accountId, [`arn:${p}:iam::${home}:role/${components[region]}-snapshot`]));
        }
    }

    // The analyst (the dfir CLI's caller outside any function).
    const analyst = role(world, home, ANALYST_ROLE_NAME, { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${home}:root` }, Action: "sts:AssumeRole" }] });
    analyst.awsManagedPolicies = { AdministratorAccess: json(ANALYST_POLICY) };
    // The break-glass role (`dfir:breakGlassRoleArn`), when the stack names one in the hub: an administrator too.
    const breakGlass = state.seedOptions.breakGlassRoleArn;
    const m = breakGlass ? /^arn:aws[a-z-]*:iam::(\d{12}):role\/([\w+=,.@-]+)$/.exec(breakGlass) : null;
    if (m && m[1] === home) {
        role(world, home, m[2] as string, { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:${p}:iam::${home}:root` }, Action: "sts:AssumeRole" }] })
            .awsManagedPolicies = { AdministratorAccess: json(ANALYST_POLICY) };
    }
    deployment.iam = { components, analystRoleArn: analyst.arn };
}
