import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { denyModifyIsolatedPolicy } from "../core/containmentPolicies";
import type { PolicyDocument } from "../core/iam";
import {
    ANALYST_ACCESS_ROLE_NAME, DEFAULT_CAPTURE_PROFILE_NAME, DEFAULT_MEMORY_DOCUMENT_NAME, DEFAULT_RESPONDER_ROLE_NAME, RESPONDER_MAX_SESSION_SECONDS,
    analystAccessTrustPolicy, hubRoleArnProblem, memberAnalystAccessPolicy, memberCapturePolicy, memberResponderRolePolicy, responderTrustPolicy,
} from "../core/memberPolicies";
import type { MemberAccessGrants } from "../core/organization";
import { createCaptureProfile } from "./captureProfile";

export interface MemberAccessArgs {
    /**
     * The hub account and the name prefixes of its roles that may assume the responder role (core/memberPolicies.ts
     * `responderTrustPolicy`): this stack's workflows of the regions the account is a member in (the other stacks' come
     * in `otherStacks`). Required with the responder role.
     */
    readonly trustees?: { readonly hubAccountId: string; readonly roleNamePrefixes: readonly string[] };
    /**
     * The hub's own account listed as a member (`responder` false): the exact ARNs of the hub roles the deny policy
     * exempts (give the Contain roles). Required then.
     */
    readonly exemptRoleArns?: pulumi.Input<string>[];
    /**
     * What the other stacks acting in this account need (their `memberAccessGrants`, `dfir:trustStacks`): the
     * responder role trusts their roles too, and the capture and responder roles admit their evidence buckets and
     * keys. @default none
     */
    readonly otherStacks?: pulumi.Input<readonly MemberAccessGrants[]>;
    /** The AWS Organization the hub belongs to: the trust also requires `aws:PrincipalOrgID`. @default none */
    readonly organizationId?: string;
    /**
     * The hub's analyst roles (`dfir:analystRoleArns`): with them, the account gets the analyst access role
     * (`dfir-analyst-access`) they may assume for `dfir plan / verify / release` on its cases. @default none: no role
     */
    readonly analystRoleArns?: readonly string[];
    /** Name of the responder role, the same in every member account (the functions build its ARN). @default "dfir-responder" */
    readonly responderRoleName?: string;
    /**
     * Name of the capture role and its instance profile, the same as the hub's (Contain swaps the account id in
     * the hub's profile ARN). @default "dfir-capture"
     */
    readonly captureProfileName?: string;
    /**
     * Name of the memory-capture SSM document in each of the account's regions: the only document the responder
     * may run. @default "dfir-memory-capture"
     */
    readonly memoryDocumentName?: string;
    /** The hub's evidence buckets the capture role uploads memory to (their bucket policies are the hub's to set). */
    readonly evidenceBucketArns: pulumi.Input<string>[];
    /** The KMS keys of those buckets. */
    readonly evidenceKeyArns: pulumi.Input<string>[];
    /**
     * Create the responder role. False for the hub's own account listed as a member: the hub's functions act
     * there with their own roles, so no role to assume is needed, and the deny policy exempts the hub roles
     * named in `hubRoleArns` (give the Contain roles) instead of a responder role.
     * @default true
     */
    readonly responder?: boolean;
    /**
     * `copySnapshotsToHub`: the responder also copies evidence snapshots under the account's share keys (one per
     * member region, from MemberRegion) and shares those copies with exactly `hubAccountId`. @default none: no copy
     */
    readonly snapshotShare?: { readonly hubAccountId: string; readonly shareKeyArns: pulumi.Input<string>[] };
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

const json = (d: pulumi.Input<PolicyDocument>) => pulumi.output(d).apply((v) => JSON.stringify(v));
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * What one member account needs for the hub's workflow to respond there: the responder role the hub's functions
 * assume (trusting only their roles, by name prefix), the forensic-capture role and instance profile Contain swaps onto a
 * contained instance, and the deny-modify-isolated-instances policy with the responder role as its one exception.
 * IAM is global: deploy one per member account (not per region); the role's permissions cover every region.
 */
export class MemberAccess extends pulumi.ComponentResource {
    /** Undefined when `responder` is false. */
    public readonly responderRoleArn?: pulumi.Output<string>;
    /** Undefined without `analystRoleArns`. */
    public readonly analystAccessRoleArn?: pulumi.Output<string>;
    public readonly captureProfileArn: pulumi.Output<string>;
    public readonly denyModifyIsolatedPolicyArn: pulumi.Output<string>;

    constructor(name: string, args: MemberAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:access:MemberAccess", name, {}, opts);
        const responderRoleName = args.responderRoleName ?? DEFAULT_RESPONDER_ROLE_NAME;
        const captureProfileName = args.captureProfileName ?? DEFAULT_CAPTURE_PROFILE_NAME;
        const memoryDocumentName = args.memoryDocumentName ?? DEFAULT_MEMORY_DOCUMENT_NAME;
        const responder = args.responder ?? true;
        if (responder && !args.trustees) throw new Error(`MemberAccess ${name}: trustees (the hub roles that may assume the responder role) are required with the responder role`);
        if (!responder && (!args.exemptRoleArns || args.exemptRoleArns.length === 0)) {
            throw new Error(`MemberAccess ${name}: exemptRoleArns must name the hub roles that contain in the hub's own account`);
        }
        // Known strings are checked now; outputs when they resolve.
        for (const arn of args.exemptRoleArns ?? []) {
            const problem = typeof arn === "string" ? hubRoleArnProblem(arn) : undefined;
            if (problem) throw new Error(`MemberAccess ${name}: exemptRoleArns: ${problem}`);
        }
        // The prefixes and the account are checked now (the partition does not change what is valid); written below.
        if (args.trustees) responderTrustPolicy({ partition: "aws", ...args.trustees });
        if (!args.evidenceBucketArns || args.evidenceBucketArns.length === 0) {
            throw new Error(`MemberAccess ${name}: evidenceBucketArns must name at least one evidence bucket ARN`);
        }
        if (!args.evidenceKeyArns || args.evidenceKeyArns.length === 0) {
            throw new Error(`MemberAccess ${name}: evidenceKeyArns must name at least one evidence key ARN`);
        }
        if (args.snapshotShare) {
            if (!/^\d{12}$/.test(args.snapshotShare.hubAccountId)) throw new Error(`MemberAccess ${name}: snapshotShare.hubAccountId must be 12 digits`);
            if (args.snapshotShare.shareKeyArns.length === 0) throw new Error(`MemberAccess ${name}: snapshotShare.shareKeyArns must name at least one share key ARN`);
            if (args.responder === false) throw new Error(`MemberAccess ${name}: snapshotShare needs the responder role (the hub's own account never copies)`);
        }
        for (const arn of args.analystRoleArns ?? []) {
            const problem = hubRoleArnProblem(arn);
            if (problem) throw new Error(`MemberAccess ${name}: analystRoleArns: ${problem}`);
        }
        for (const [field, value] of Object.entries({ responderRoleName, captureProfileName, memoryDocumentName })) {
            if (!IAM_NAME.test(value)) throw new Error(`MemberAccess ${name}: ${field} "${value}" is not a valid name`);
        }
        const organizationId = args.organizationId;
        // This stack's buckets and keys, and the other stacks' (read when their outputs resolve).
        const others = pulumi.output(args.otherStacks ?? []);
        const bucketArns = pulumi.all([pulumi.all(args.evidenceBucketArns), others]).apply(([own, o]) => [...new Set([...own, ...o.flatMap((g) => g.evidenceBucketArns)])]);
        const keyArns = pulumi.all([pulumi.all(args.evidenceKeyArns), others]).apply(([own, o]) => [...new Set([...own, ...o.flatMap((g) => g.evidenceKeyArns)])]);
        const tags = { ...args.tags };
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;

        // Explicit names: the hub's functions derive both ARNs from the member's account id.
        const capture = createCaptureProfile(name, {
            name: captureProfileName,
            description: "aws-dfir forensic capture profile: SSM, the hub's pinned tools, memory upload only",
            policy: json(pulumi.all([bucketArns, keyArns])
                .apply(([buckets, keys]) => memberCapturePolicy(buckets, keys))),
            partition,
            tags,
        }, this);

        let responderRoleArn: pulumi.Output<string> | undefined;
        if (responder) {
            const responderRole = new aws.iam.Role(`${name}-responder`, {
                name: responderRoleName,
                description: "aws-dfir responder: the hub's response functions contain and collect evidence here",
                assumeRolePolicy: json(pulumi.all([partition, others]).apply(([p, o]) => {
                    const trustees = args.trustees as NonNullable<MemberAccessArgs["trustees"]>;
                    const prefixes = [...trustees.roleNamePrefixes, ...o.flatMap((g) => g.roleNamePrefixes)];
                    return responderTrustPolicy({ partition: p, hubAccountId: trustees.hubAccountId, roleNamePrefixes: prefixes }, { organizationId });
                })),
                maxSessionDuration: RESPONDER_MAX_SESSION_SECONDS,
                tags,
            }, parent);
            const share = args.snapshotShare;
            const shareKeys = pulumi.all(share?.shareKeyArns ?? []);
            new aws.iam.RolePolicy(`${name}-responder`, {
                role: responderRole.id,
                policy: json(pulumi.all([partition, account, responderRole.arn, capture.roleArn, shareKeys, bucketArns]).apply(([p, a, responderArn, captureArn, keys, buckets]) =>
                    memberResponderRolePolicy({
                        partition: p,
                        accountId: a,
                        responderRoleArn: responderArn,
                        captureRoleArn: captureArn,
                        memoryDocumentName,
                        evidenceBucketArns: buckets,
                        ...(share ? { snapshotShare: { hubAccountId: share.hubAccountId, shareKeyArns: keys } } : {}),
                    }))),
            }, parent);
            responderRoleArn = responderRole.arn;
        }

        // The analysts' role: what `dfir plan / verify / release` need on this account's cases, nothing more.
        let analystAccessRoleArn: pulumi.Output<string> | undefined;
        const analysts = [...new Set(args.analystRoleArns ?? [])];
        // Not in the hub's own account (no responder role there either): the analysts act there as themselves.
        if (analysts.length > 0 && responder) {
            const analystRole = new aws.iam.Role(`${name}-analyst-access`, {
                name: ANALYST_ACCESS_ROLE_NAME,
                description: "aws-dfir analyst access: dfir plan, verify and release on this account's cases",
                assumeRolePolicy: json(analystAccessTrustPolicy(analysts, { ...(organizationId ? { organizationId } : {}) })),
                tags,
            }, parent);
            new aws.iam.RolePolicy(`${name}-analyst-access`, {
                role: analystRole.id,
                policy: json(pulumi.all([partition, account]).apply(([p, a]) => memberAnalystAccessPolicy(p, a))),
            }, parent);
            analystAccessRoleArn = analystRole.arn;
        }

        // Humans and CI in the account must not undo containment; whoever contains here, and the analysts' release
        // role, are the exceptions.
        const exempt = pulumi.all([
            ...(responderRoleArn ? [responderRoleArn] : args.exemptRoleArns ?? []),
            ...(analystAccessRoleArn ? [analystAccessRoleArn] : []),
        ]);
        const denyPolicy = new aws.iam.Policy(`${name}-deny-modify-isolated`, {
            description: "aws-dfir: deny terminating, stopping or modifying instances tagged dfir:status=isolated (attach to human and CI roles)",
            policy: json(pulumi.all([exempt, partition]).apply(([arns, p]) => denyModifyIsolatedPolicy(arns, p))),
            tags,
        }, parent);

        this.responderRoleArn = responderRoleArn;
        this.analystAccessRoleArn = analystAccessRoleArn;
        this.captureProfileArn = capture.profileArn;
        this.denyModifyIsolatedPolicyArn = denyPolicy.arn;
        this.registerOutputs({
            responderRoleArn: this.responderRoleArn,
            analystAccessRoleArn: this.analystAccessRoleArn,
            captureProfileArn: this.captureProfileArn,
            denyModifyIsolatedPolicyArn: this.denyModifyIsolatedPolicyArn,
        });
    }
}
