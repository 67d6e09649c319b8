import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { buildDefinition, type DefinitionTargets } from "../core/definition";
import { denyModifyIsolatedPolicy, denyModifyIsolatedScp } from "../core/containmentPolicies";
import {
    capturePolicy, deadLetterQueuePolicy, MEMBER_ACTING_FUNCTIONS, notificationKeyPolicy, responseFunctionPolicy, serviceTrustPolicy,
    componentMachineScope, startExecutionPolicy, stateMachinePolicy, type PolicyDocument, type ResponseResources, type Scope,
} from "../core/iam";
import { buildTriggerRules, type RuleTrigger } from "../core/pattern";
import { AVML_BUILDS, AVML_ENV, type AvmlBuild } from "../core/avml";
import { memoryCaptureDocument, readCaptureScript } from "../core/ssmDocument";
import { validateTriageOptions, type TriageOptionsInput } from "../core/triage";
import { containSettingsFile, ENV, SETTINGS_FILE } from "../core/workflow";
import { FUNCTION_LIMITS } from "../core/lambda";
import { FUNCTION_NAMES, handlerArchive, type FunctionName } from "./bundle";
import { createCaptureProfile } from "./captureProfile";

export interface ResponseWorkflowArgs {
    /** Isolation security group of each protected VPC (vpcId -> group id). */
    readonly isolationGroups: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** All-open "untrack" group of each VPC, applied before isolation. @default {} (connections not cut) */
    readonly untrackGroups?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The region's evidence store. */
    readonly evidence: {
        readonly bucketName: pulumi.Input<string>;
        readonly bucketArn: pulumi.Input<string>;
        readonly keyArn: pulumi.Input<string>;
        /** The manifest-signing key (ECC_NIST_P256, SIGN_VERIFY): the seal signs with it (MANIFEST_SIGNING_KEY_ARN). */
        readonly signingKeyArn: pulumi.Input<string>;
        readonly retentionDays: number;
        /** Staged avml builds (key in the bucket, sha256 of each). @default none: memory is reported missing */
        readonly avml?: Partial<Record<AvmlBuild, { readonly key: pulumi.Input<string>; readonly sha256: pulumi.Input<string> }>>;
    };
    /** Lowest GuardDuty severity the rule forwards and the guard accepts. @default 7 */
    readonly minSeverity?: number;
    /** Respond to GuardDuty sample findings. @default false */
    readonly allowSamples?: boolean;
    /**
     * The other triggers (core/triage.ts): credential exfiltration, Security Hub, the dfir:respond tag (@default all
     * on), and the accounts the rules admit (`accountIds`; @default any account). The account filter is the rules'
     * alone: the Lambda environment (4 KB in all) cannot hold a long list, so the triage guard does not repeat it.
     */
    readonly triggers?: Pick<TriageOptionsInput, "credentialExfiltration" | "securityHub" | "tagTrigger" | "accountIds">;
    /** E-mail subscribed to the notification topic (confirmed by the recipient). @default none */
    readonly notificationEmail?: string;
    /** Retention of the state machine's and functions' log groups, in days. @default 365 */
    readonly logRetentionDays?: number;
    /** How long an approval request waits. @default 3600 */
    readonly approvalTimeoutSeconds?: number;
    /** What an unanswered approval request does. @default "contain" */
    readonly approvalDefault?: "contain" | "skip";
    /** Give up waiting for snapshots after this many hours. @default 24 */
    readonly snapshotCapHours?: number;
    /** Give up waiting for the memory image after this many minutes. @default 180 */
    readonly memoryCapMinutes?: number;
    /** Also create the deny-modify-isolated-instances policy as an organizations SCP (management account only). @default false */
    readonly isolatedInstanceScp?: boolean;
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
    /**
     * A hub region's workflow in a multi-account stack. Account-wide and per-member resources belong to other
     * components there, so this one creates no capture role or profile (`MemberAccess`, fixed name in every
     * account, the hub's included), no memory document (`MemberRegion`, fixed name in every member region) and no
     * deny-modify-isolated policy (`MemberAccess`, per account). The functions assume `responderRoleName` in
     * `memberAccountIds` (exactly those: the hub's own account is never assumed).
     * @default none: a single-account workflow that creates all of the above itself
     */
    readonly crossAccount?: {
        readonly responderRoleName: string;
        /** Member accounts other than the hub's own that have a member region here (may be empty). */
        readonly memberAccountIds: readonly string[];
        /** Name of the capture role and instance profile in every account (the hub's own is swapped onto its instances). */
        readonly captureProfileName: string;
        /** Name of the memory-capture document in every member region. */
        readonly memoryDocumentName: string;
        /**
         * Copy member instances' snapshots into this region (re-encrypted with the evidence key): the definition
         * gets the copy states, the snapshot function the copy permissions and settings. @default false
         */
        readonly copySnapshotsToHub?: boolean;
        /** With `copySnapshotsToHub`: the share keys of this region's member accounts (MemberRegion), read when copying. */
        readonly memberShareKeyArns?: pulumi.Input<string>[];
        /**
         * The hub's own account has instances here (it is a member in this region too). False: the functions'
         * roles get none of the grants on the hub's own instances. @default true
         */
        readonly ownInstances?: boolean;
    };
}

/**
 * The functions' log level (POWERTOOLS_LOG_LEVEL, read by the Powertools Logger): INFO keeps every line the
 * functions write today (they write no DEBUG lines); an operator raises it per function for an investigation.
 */
export const LOG_LEVEL = "INFO";

const json = (d: pulumi.Input<PolicyDocument>) => pulumi.output(d).apply((v) => JSON.stringify(v));

/**
 * The response: an EventBridge rule (pattern generated from the triage options, retries, dead-letter queue)
 * starts a Standard state machine (full logging, X-Ray) built by `core/definition.ts`: triage guard, case
 * open/dedupe, optional approval, containment, parallel disk / memory / metadata evidence, a sealed manifest
 * under Object Lock, and notification. Also: the case table, the memory-capture SSM document, the forensic
 * capture instance profile, and the deny-modify-isolated-instances policy.
 */
export class ResponseWorkflow extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly topicArn: pulumi.Output<string>;
    public readonly ruleName: pulumi.Output<string>;
    public readonly deadLetterQueueUrl: pulumi.Output<string>;
    public readonly casesTableName: pulumi.Output<string>;
    public readonly memoryDocumentName: pulumi.Output<string>;
    public readonly captureProfileArn: pulumi.Output<string>;
    /** Undefined with `crossAccount` (each account's `MemberAccess` has its own). */
    public readonly denyModifyIsolatedPolicyArn?: pulumi.Output<string>;
    /** The roles of the functions that act in member accounts (OpenCase, Contain, snapshot, memory, metadata): what a responder role trusts. */
    public readonly responderPrincipalArns: pulumi.Output<string>[];
    /** The Contain function's role: the one hub role that changes instances. */
    public readonly containRoleArn: pulumi.Output<string>;
    /** The snapshot function's role: the one hub role that copies member snapshots (members' share keys name it). */
    public readonly snapshotRoleArn: pulumi.Output<string>;

    constructor(name: string, args: ResponseWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:response:ResponseWorkflow", name, {}, opts);
        const options = validateTriageOptions({ minSeverity: args.minSeverity, allowSamples: args.allowSamples, ...args.triggers });
        const settings = {
            approvalTimeoutSeconds: args.approvalTimeoutSeconds ?? 3600,
            approvalDefault: args.approvalDefault ?? "contain",
        };
        const snapshotCapSeconds = Math.round((args.snapshotCapHours ?? 24) * 3600);
        const memoryCapSeconds = Math.round((args.memoryCapMinutes ?? 180) * 60);
        if (snapshotCapSeconds < 60 || memoryCapSeconds < 60) {
            throw new Error(`ResponseWorkflow ${name}: snapshotCapHours and memoryCapMinutes must allow at least a minute`);
        }
        const logRetentionDays = args.logRetentionDays ?? 365;
        const tags = { ...args.tags };
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const region = aws.getRegionOutput({}, parent).region;
        const scope: pulumi.Output<Scope> = pulumi.all([partition, region, account]).apply(([p, r, a]) => ({ partition: p, region: r, accountId: a }));

        const topicKey = new aws.kms.Key(`${name}-notifications`, {
            description: `aws-dfir notifications (${name})`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: json(scope.apply((s) => notificationKeyPolicy(s.partition, s.accountId))),
            tags,
        }, parent);
        const topic = new aws.sns.Topic(`${name}-notifications`, { kmsMasterKeyId: topicKey.arn, tags }, parent);
        if (args.notificationEmail) {
            new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: "email", endpoint: args.notificationEmail }, parent);
        }

        // One open case per instance: the conditional write on this table is the dedupe lock.
        const cases = new aws.dynamodb.Table(`${name}-cases`, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "pk",
            attributes: [{ name: "pk", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            serverSideEncryption: { enabled: true },
            deletionProtectionEnabled: true,
            tags,
        }, { parent: this, retainOnDelete: true });

        const cross = args.crossAccount;
        const copySnapshotsToHub = cross?.copySnapshotsToHub === true;
        if (cross && args.isolatedInstanceScp) {
            throw new Error(`ResponseWorkflow ${name}: isolatedInstanceScp cannot be combined with crossAccount (the SCP belongs to the organization's management account)`);
        }
        let documentName: pulumi.Output<string>;
        let captureRoleArn: pulumi.Output<string>;
        let captureProfileArn: pulumi.Output<string>;
        if (cross) {
            documentName = pulumi.output(cross.memoryDocumentName);
            captureRoleArn = pulumi.interpolate`arn:${partition}:iam::${account}:role/${cross.captureProfileName}`;
            captureProfileArn = pulumi.interpolate`arn:${partition}:iam::${account}:instance-profile/${cross.captureProfileName}`;
        } else {
            const document = new aws.ssm.Document(`${name}-memory-capture`, {
                documentType: "Command",
                documentFormat: "JSON",
                content: JSON.stringify(memoryCaptureDocument(readCaptureScript())),
                tags,
            }, parent);
            const capture = createCaptureProfile(name, {
                description: "aws-dfir forensic capture profile: SSM, pinned tools, memory upload only",
                policy: json(pulumi.all([args.evidence.bucketArn, args.evidence.keyArn]).apply(([b, k]) => capturePolicy(b, k))),
                partition,
                tags,
            }, this);
            documentName = document.name;
            captureRoleArn = capture.roleArn;
            captureProfileArn = capture.profileArn;
        }
        const documentArn = pulumi.interpolate`arn:${partition}:ssm:${region}:${account}:document/${documentName}`;
        const responderRoleArns = cross
            ? partition.apply((p) => [...new Set(cross.memberAccountIds)].sort().map((a) => `arn:${p}:iam::${a}:role/${cross.responderRoleName}`))
            : pulumi.output([] as string[]);

        const shareKeyArns = pulumi.all(copySnapshotsToHub ? cross?.memberShareKeyArns ?? [] : []);
        const vpcIds = pulumi.output(args.isolationGroups).apply((g) => Object.keys(g).sort());
        const resources: pulumi.Output<ResponseResources> = pulumi
            .all([cases.arn, args.evidence.bucketArn, args.evidence.keyArn, documentArn, captureRoleArn, responderRoleArns, shareKeyArns, vpcIds])
            .apply(([casesTableArn, evidenceBucketArn, evidenceKeyArn, memoryDocumentArn, capture, responders, shareKeys, vpcs]) => ({
                casesTableArn, evidenceBucketArn, evidenceKeyArn, memoryDocumentArn, captureRoleArn: capture,
                ...(responders.length > 0 ? { responderRoleArns: responders } : {}),
                ...(vpcs.length > 0 ? { vpcIds: vpcs } : {}),
                ...(copySnapshotsToHub ? { snapshotCopy: { memberShareKeyArns: shareKeys } } : {}),
                ...(cross?.ownInstances === false ? { ownInstances: false } : {}),
            }))
            .apply((r) => pulumi.output(args.evidence.signingKeyArn).apply((manifestSigningKeyArn) => ({ ...r, manifestSigningKeyArn })));

        const environment: Record<string, pulumi.Input<string>> = {
            [ENV.logLevel]: LOG_LEVEL,
            MIN_SEVERITY: String(options.minSeverity),
            ALLOW_SAMPLES: String(options.allowSamples),
            CREDENTIAL_EXFILTRATION: String(options.credentialExfiltration),
            TAG_TRIGGER: String(options.tagTrigger),
            SECURITY_HUB: JSON.stringify(options.securityHub),
            [ENV.casesTable]: cases.name,
            [ENV.evidenceBucket]: args.evidence.bucketName,
            [ENV.captureProfileArn]: captureProfileArn,
            [ENV.memoryDocument]: documentName,
            [ENV.snapshotCapSeconds]: String(snapshotCapSeconds),
            [ENV.memoryCapSeconds]: String(memoryCapSeconds),
            [ENV.retentionDays]: String(args.evidence.retentionDays),
            [ENV.homeAccountId]: account,
            [ENV.manifestSigningKeyArn]: args.evidence.signingKeyArn,
            ...Object.fromEntries(AVML_BUILDS.flatMap((build) => {
                const staged = args.evidence.avml?.[build];
                return staged ? [[AVML_ENV[build].key, staged.key], [AVML_ENV[build].sha256, staged.sha256]] : [];
            })),
            ...(cross ? { [ENV.responderRoleName]: cross.responderRoleName } : {}),
            ...(copySnapshotsToHub ? { [ENV.copySnapshotsToHub]: "true", [ENV.hubSnapshotKeyArn]: args.evidence.keyArn } : {}),
        };

        // The group maps grow with every VPC and Lambda holds 4 KB of environment in all: Contain, their only reader,
        // gets them in a file beside its handler (core/workflow.ts SETTINGS_FILE; a new map is a new code version).
        const containCode = pulumi.all([pulumi.output(args.isolationGroups), pulumi.output(args.untrackGroups ?? {})]).apply(([isolation, untrack]) =>
            handlerArchive("contain", { [SETTINGS_FILE]: containSettingsFile(isolation, untrack) }));
        const fns = {} as Record<FunctionName, aws.lambda.Function>;
        const roles = {} as Record<FunctionName, aws.iam.Role>;
        for (const fnName of FUNCTION_NAMES) {
            const { timeoutSeconds, memoryMb } = FUNCTION_LIMITS[fnName];
            const logGroup = new aws.cloudwatch.LogGroup(`${name}-${fnName}-logs`, { retentionInDays: logRetentionDays, tags }, parent);
            const role = new aws.iam.Role(`${name}-${fnName}`, {
                description: `aws-dfir ${fnName} function (${name})`,
                assumeRolePolicy: json(serviceTrustPolicy("lambda.amazonaws.com")),
                tags,
            }, parent);
            const rolePolicy = new aws.iam.RolePolicy(`${name}-${fnName}`, {
                role: role.id,
                policy: json(pulumi.all([scope, resources, logGroup.arn]).apply(([s, r, l]) => responseFunctionPolicy(fnName, name, s, r, l))),
            }, parent);
            roles[fnName] = role;
            fns[fnName] = new aws.lambda.Function(`${name}-${fnName}`, {
                description: `aws-dfir ${fnName} (${name})`,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                handler: "index.handler",
                code: fnName === "contain" ? containCode : handlerArchive(fnName),
                role: role.arn,
                timeout: timeoutSeconds,
                memorySize: memoryMb,
                environment: { variables: { ...environment, [ENV.logService]: `aws-dfir-${fnName}` } },
                loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
                tracingConfig: { mode: "Active" },
                tags,
            }, { parent: this, dependsOn: [rolePolicy] });
        }

        // Humans and CI must not undo containment; the responder (contain function) is the exception.
        const responders = pulumi.all([roles.contain.arn, partition]);
        const denyPolicy = cross ? undefined : new aws.iam.Policy(`${name}-deny-modify-isolated`, {
            description: "aws-dfir: deny terminating, stopping or modifying instances tagged dfir:status=isolated (attach to human and CI roles)",
            policy: json(responders.apply(([arn, p]) => denyModifyIsolatedPolicy([arn], p))),
            tags,
        }, parent);
        if (args.isolatedInstanceScp) {
            new aws.organizations.Policy(`${name}-deny-modify-isolated-scp`, {
                description: "aws-dfir: deny modifying isolated instances to all but the responder",
                type: "SERVICE_CONTROL_POLICY",
                content: json(responders.apply(([arn, p]) => denyModifyIsolatedScp([arn], p))),
                tags,
            }, parent);
        }

        const machineLogs = new aws.cloudwatch.LogGroup(`${name}-state-machine-logs`, {
            // The /aws/vendedlogs/ prefix keeps Step Functions from growing the account's logs resource policy.
            namePrefix: `/aws/vendedlogs/states/${name}-`,
            retentionInDays: logRetentionDays,
            tags,
        }, parent);
        const machineRole = new aws.iam.Role(`${name}-state-machine`, {
            description: `aws-dfir response state machine (${name})`,
            assumeRolePolicy: json(account.apply((a) => serviceTrustPolicy("states.amazonaws.com", a))),
            tags,
        }, parent);
        const fnArns = pulumi.all(Object.values(fns).map((f) => f.arn));
        const machinePolicy = new aws.iam.RolePolicy(`${name}-state-machine`, {
            role: machineRole.id,
            // The disk digests' Distributed Map starts child executions of this state machine (componentMachineScope).
            policy: json(pulumi.all([fnArns, topic.arn, topicKey.arn, scope]).apply(([arns, t, k, s]) => stateMachinePolicy(arns, [t], k, componentMachineScope(s, name)))),
        }, parent);
        const targets: pulumi.Output<DefinitionTargets> = pulumi
            .all([fns.triage.arn, fns.case.arn, fns.contain.arn, fns.snapshot.arn, fns.memory.arn, fns.metadata.arn, fns.seal.arn, fns.digest.arn, topic.arn])
            .apply(([triage, caseFn, contain, snapshot, memory, metadata, seal, digest, topicArn]) => ({
                triageFunctionArn: triage,
                caseFunctionArn: caseFn,
                containFunctionArn: contain,
                snapshotFunctionArn: snapshot,
                memoryFunctionArn: memory,
                metadataFunctionArn: metadata,
                sealFunctionArn: seal,
                digestFunctionArn: digest,
                topicArn,
                approvalTopicArn: topicArn,
            }));
        const machine = new aws.sfn.StateMachine(`${name}-response`, {
            type: "STANDARD",
            roleArn: machineRole.arn,
            definition: targets.apply((t) => JSON.stringify(buildDefinition(t, { ...settings, copySnapshotsToHub }))),
            loggingConfiguration: {
                level: "ALL",
                includeExecutionData: true,
                logDestination: pulumi.interpolate`${machineLogs.arn}:*`,
            },
            tracingConfiguration: { enabled: true },
            tags,
        }, { parent: this, dependsOn: [machinePolicy] });

        const dlq = new aws.sqs.Queue(`${name}-dead-letters`, {
            messageRetentionSeconds: 14 * 24 * 3600,
            sqsManagedSseEnabled: true,
            tags,
        }, parent);
        // One rule per trigger kind (core/pattern.ts), or several when the account filter does not fit one
        // pattern; all with the same target, role, retries and dead-letter queue. Part 1 keeps the kind's name.
        const RULE_DESCRIPTIONS: Record<RuleTrigger, string> = {
            guardduty: `GuardDuty instance findings of severity >= ${options.minSeverity}`,
            "credential-exfiltration": `GuardDuty instance-credential-exfiltration findings of severity >= ${options.minSeverity}`,
            securityhub: `Security Hub findings on EC2 instances labelled ${options.securityHub.minLabel} or above`,
            tag: "dfir:respond=contain|evidence set on an EC2 instance",
        };
        const triggerRules = buildTriggerRules(options).map((r) => {
            const stem = r.kind === "guardduty" ? `${name}-findings` : `${name}-${r.kind}`;
            const ruleName = r.part === 1 ? stem : `${stem}-${r.part}`;
            const accounts = options.accountIds.length > 0 ? ` (accounts part ${r.part})` : "";
            return {
                ruleName,
                rule: new aws.cloudwatch.EventRule(ruleName, {
                    description: `aws-dfir: ${RULE_DESCRIPTIONS[r.kind]}${accounts}`,
                    eventPattern: JSON.stringify(r.pattern),
                    tags,
                }, parent),
            };
        });
        const rule = triggerRules[0].rule;
        new aws.sqs.QueuePolicy(`${name}-dead-letters`, {
            queueUrl: dlq.url,
            policy: json(pulumi.all([dlq.arn, ...triggerRules.map((t) => t.rule.arn)]).apply(([q, ...r]) => deadLetterQueuePolicy(q, r))),
        }, parent);
        const eventsRole = new aws.iam.Role(`${name}-events`, {
            description: `aws-dfir: EventBridge starts the response (${name})`,
            assumeRolePolicy: json(account.apply((a) => serviceTrustPolicy("events.amazonaws.com", a))),
            tags,
        }, parent);
        const eventsPolicy = new aws.iam.RolePolicy(`${name}-events`, {
            role: eventsRole.id,
            policy: json(machine.arn.apply(startExecutionPolicy)),
        }, parent);
        for (const { ruleName, rule: triggerRule } of triggerRules) {
            new aws.cloudwatch.EventTarget(ruleName, {
                rule: triggerRule.name,
                arn: machine.arn,
                roleArn: eventsRole.arn,
                // A finding must not be dropped because Step Functions throttled once: retry for a day, then park
                // the event in the dead-letter queue (alarmed below) rather than lose it.
                retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
                deadLetterConfig: { arn: dlq.arn },
            }, { parent: this, dependsOn: [eventsPolicy] });
        }

        // An undelivered finding and a failed response are both incidents of their own.
        const alarmOnAny = (alarmName: string, description: string, metric: {
            namespace: string; metricName: string; statistic: string; period: number;
            dimensions: Record<string, pulumi.Input<string>>;
        }) => new aws.cloudwatch.MetricAlarm(`${name}-${alarmName}`, {
            alarmDescription: `aws-dfir: ${description}`,
            ...metric,
            evaluationPeriods: 1,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
            alarmActions: [topic.arn],
            tags,
        }, parent);
        alarmOnAny("undelivered-findings", "a GuardDuty finding could not start the response (see the dead-letter queue)", {
            namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", statistic: "Maximum", period: 300,
            dimensions: { QueueName: dlq.name },
        });
        alarmOnAny("failed-responses", "a response execution failed, timed out or was aborted", {
            namespace: "AWS/States", metricName: "ExecutionsFailed", statistic: "Sum", period: 60,
            dimensions: { StateMachineArn: machine.arn },
        });

        this.stateMachineArn = machine.arn;
        this.topicArn = topic.arn;
        this.ruleName = rule.name;
        this.deadLetterQueueUrl = dlq.url;
        this.casesTableName = cases.name;
        this.memoryDocumentName = documentName;
        this.captureProfileArn = captureProfileArn;
        this.denyModifyIsolatedPolicyArn = denyPolicy?.arn;
        this.responderPrincipalArns = MEMBER_ACTING_FUNCTIONS.map((f) => roles[f].arn);
        this.containRoleArn = roles.contain.arn;
        this.snapshotRoleArn = roles.snapshot.arn;
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            topicArn: this.topicArn,
            ruleName: this.ruleName,
            deadLetterQueueUrl: this.deadLetterQueueUrl,
            casesTableName: this.casesTableName,
            memoryDocumentName: this.memoryDocumentName,
            captureProfileArn: this.captureProfileArn,
            denyModifyIsolatedPolicyArn: this.denyModifyIsolatedPolicyArn,
            responderPrincipalArns: this.responderPrincipalArns,
        });
    }
}
