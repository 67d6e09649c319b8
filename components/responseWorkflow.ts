import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildDefinition } from "../core/definition";
import {
    containPolicy, deadLetterQueuePolicy, notificationKeyPolicy, serviceTrustPolicy, startExecutionPolicy, stateMachinePolicy, triagePolicy,
    type PolicyDocument,
} from "../core/iam";
import { buildEventPattern } from "../core/pattern";
import { DEFAULT_TRIAGE_OPTIONS, validateTriageOptions } from "../core/triage";
import { handlerArchive, type FunctionName } from "./bundle";

export interface ResponseWorkflowArgs {
    /** Isolation security group of each protected VPC (vpcId -> group id). */
    readonly isolationGroups: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Lowest GuardDuty severity the rule forwards and the guard accepts. @default 7 */
    readonly minSeverity?: number;
    /** Respond to GuardDuty sample findings. @default false */
    readonly allowSamples?: boolean;
    /** E-mail subscribed to the notification topic (confirmed by the recipient). @default none */
    readonly notificationEmail?: string;
    /** Retention of the state machine's and functions' log groups, in days. @default 365 */
    readonly logRetentionDays?: number;
    /** Extra tags for every taggable child. @default {} */
    readonly tags?: Record<string, string>;
}

const json = (d: pulumi.Input<PolicyDocument>) => pulumi.output(d).apply((v) => JSON.stringify(v));

/**
 * First cut of the response: an EventBridge rule (pattern generated from the triage options, retries and a
 * dead-letter queue) starts a Standard state machine (full logging, X-Ray) that runs the triage guard,
 * moves every interface of the instance into its VPC's isolation group, tags it, and notifies an SNS topic.
 */
export class ResponseWorkflow extends pulumi.ComponentResource {
    public readonly stateMachineArn: pulumi.Output<string>;
    public readonly topicArn: pulumi.Output<string>;
    public readonly ruleName: pulumi.Output<string>;
    public readonly deadLetterQueueUrl: pulumi.Output<string>;
    public readonly containFunctionName: pulumi.Output<string>;

    constructor(name: string, args: ResponseWorkflowArgs, opts?: pulumi.ComponentResourceOptions) {
        super("dfir:response:ResponseWorkflow", name, {}, opts);
        const options = validateTriageOptions({
            minSeverity: args.minSeverity ?? DEFAULT_TRIAGE_OPTIONS.minSeverity,
            allowSamples: args.allowSamples ?? DEFAULT_TRIAGE_OPTIONS.allowSamples,
        });
        const logRetentionDays = args.logRetentionDays ?? 365;
        const tags = { ...args.tags };
        const parent = { parent: this };
        const account = aws.getCallerIdentityOutput({}, parent).accountId;
        const partition = aws.getPartitionOutput({}, parent).partition;
        const region = aws.getRegionOutput({}, parent).region;

        const topicKey = new aws.kms.Key(`${name}-notifications`, {
            description: `aws-dfir notifications (${name})`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: json(pulumi.all([partition, account]).apply(([p, a]) => notificationKeyPolicy(p, a))),
            tags,
        }, parent);
        const topic = new aws.sns.Topic(`${name}-notifications`, {
            kmsMasterKeyId: topicKey.arn,
            tags,
        }, parent);
        if (args.notificationEmail) {
            new aws.sns.TopicSubscription(`${name}-email`, {
                topic: topic.arn,
                protocol: "email",
                endpoint: args.notificationEmail,
            }, parent);
        }

        const fn = (fnName: FunctionName, policy: (logGroupArn: string) => pulumi.Input<PolicyDocument>,
            settings: { timeout: number; environment: pulumi.Input<Record<string, pulumi.Input<string>>> }) => {
            const logGroup = new aws.cloudwatch.LogGroup(`${name}-${fnName}-logs`, {
                retentionInDays: logRetentionDays,
                tags,
            }, parent);
            const role = new aws.iam.Role(`${name}-${fnName}`, {
                description: `aws-dfir ${fnName} function (${name})`,
                assumeRolePolicy: json(serviceTrustPolicy("lambda.amazonaws.com")),
                tags,
            }, parent);
            const rolePolicy = new aws.iam.RolePolicy(`${name}-${fnName}`, {
                role: role.id,
                policy: json(pulumi.output(logGroup.arn).apply((arn) => pulumi.output(policy(arn)))),
            }, parent);
            return new aws.lambda.Function(`${name}-${fnName}`, {
                description: `aws-dfir ${fnName} (${name})`,
                runtime: aws.lambda.Runtime.NodeJS22dX,
                architectures: ["arm64"],
                handler: "index.handler",
                code: handlerArchive(fnName),
                role: role.arn,
                timeout: settings.timeout,
                memorySize: 256,
                environment: { variables: settings.environment },
                loggingConfig: { logFormat: "JSON", logGroup: logGroup.name },
                tracingConfig: { mode: "Active" },
                tags,
            }, { parent: this, dependsOn: [rolePolicy] });
        };

        const triageFn = fn("triage", (logGroupArn) => triagePolicy(logGroupArn), {
            timeout: 10,
            environment: { MIN_SEVERITY: String(options.minSeverity), ALLOW_SAMPLES: String(options.allowSamples) },
        });
        const containFn = fn("contain",
            (logGroupArn) => pulumi.all([partition, region, account]).apply(([p, r, a]) =>
                containPolicy({ partition: p, region: r, accountId: a }, logGroupArn)),
            {
                timeout: 60,
                environment: { ISOLATION_GROUPS: pulumi.output(args.isolationGroups).apply((g) => JSON.stringify(g)) },
            });

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
        const machinePolicy = new aws.iam.RolePolicy(`${name}-state-machine`, {
            role: machineRole.id,
            policy: json(pulumi.all([triageFn.arn, containFn.arn, topic.arn, topicKey.arn]).apply(([t, c, s, k]) =>
                stateMachinePolicy([t, c], s, k))),
        }, parent);
        const machine = new aws.sfn.StateMachine(`${name}-response`, {
            type: "STANDARD",
            roleArn: machineRole.arn,
            definition: pulumi.all([triageFn.arn, containFn.arn, topic.arn]).apply(([t, c, s]) =>
                JSON.stringify(buildDefinition({ triageFunctionArn: t, containFunctionArn: c, topicArn: s }))),
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
        const rule = new aws.cloudwatch.EventRule(`${name}-findings`, {
            description: `aws-dfir: GuardDuty instance findings of severity >= ${options.minSeverity}`,
            eventPattern: JSON.stringify(buildEventPattern(options)),
            tags,
        }, parent);
        new aws.sqs.QueuePolicy(`${name}-dead-letters`, {
            queueUrl: dlq.url,
            policy: json(pulumi.all([dlq.arn, rule.arn]).apply(([q, r]) => deadLetterQueuePolicy(q, r))),
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
        new aws.cloudwatch.EventTarget(`${name}-findings`, {
            rule: rule.name,
            arn: machine.arn,
            roleArn: eventsRole.arn,
            // A finding must not be dropped because Step Functions throttled once: retry for a day, then park
            // the event in the dead-letter queue (alarmed below) rather than lose it.
            retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
            deadLetterConfig: { arn: dlq.arn },
        }, { parent: this, dependsOn: [eventsPolicy] });

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
        this.containFunctionName = containFn.name;
        this.registerOutputs({
            stateMachineArn: this.stateMachineArn,
            topicArn: this.topicArn,
            ruleName: this.ruleName,
            deadLetterQueueUrl: this.deadLetterQueueUrl,
            containFunctionName: this.containFunctionName,
        });
    }
}
