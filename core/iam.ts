/**
 * IAM and resource policy documents, as pure functions of the ARNs they name. Components serialise them;
 * tests read them without Pulumi. Every `"Resource": "*"` below is there because the action has no
 * resource-level permission (named beside it), never for convenience.
 */

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: unknown;
    Action: string | string[];
    /** Absent only in trust policies, where IAM rejects it. */
    Resource?: string | string[];
    Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: "2012-10-17", Statement });

/** Where a stack's resources live: the pieces of every ARN it writes. */
export interface Scope {
    partition: string;
    region: string;
    accountId: string;
}

/**
 * Trust policy for a role assumed by an AWS service. With `sourceAccount` (Step Functions, EventBridge: both
 * send it) only that account's resources can make the service assume the role — the confused-deputy guard.
 * Lambda execution roles take no such condition: Lambda does not send the key when it assumes them.
 */
export function serviceTrustPolicy(service: string, sourceAccount?: string): PolicyDocument {
    const statement: PolicyStatement = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
    if (sourceAccount) statement.Condition = { StringEquals: { "aws:SourceAccount": sourceAccount } };
    return doc(statement);
}

/** Lambda's own log writing, to its one log group. */
export function logWritePolicy(logGroupArn: string): PolicyDocument {
    return doc({
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
    });
}

/** X-Ray segments: PutTraceSegments/PutTelemetryRecords have no resource-level permission. */
const xrayWrite: PolicyStatement = {
    Sid: "XRayNoResourceLevelPermission",
    Effect: "Allow",
    Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    Resource: "*",
};

/**
 * The first-cut contain function: read the instance, move its interfaces to an isolation group, tag it.
 * ModifyNetworkInterfaceAttribute is scoped to this account's interfaces and to groups tagged
 * `dfir:role=isolation` (so the function cannot move an interface into an arbitrary group); CreateTags only
 * writes `dfir:*` keys on instances.
 */
export function containPolicy(s: Scope, logGroupArn: string): PolicyDocument {
    const arn = (type: string) => `arn:${s.partition}:ec2:${s.region}:${s.accountId}:${type}/*`;
    return doc(
        ...logWritePolicy(logGroupArn).Statement,
        xrayWrite,
        { Sid: "DescribeNoResourceLevelPermission", Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" },
        { Sid: "ModifyInterfaces", Effect: "Allow", Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: arn("network-interface") },
        {
            Sid: "OnlyIntoIsolationGroups",
            Effect: "Allow",
            Action: "ec2:ModifyNetworkInterfaceAttribute",
            Resource: arn("security-group"),
            Condition: { StringEquals: { "aws:ResourceTag/dfir:role": "isolation" } },
        },
        {
            Sid: "TagContainedInstances",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: arn("instance"),
            Condition: { "ForAllValues:StringLike": { "aws:TagKeys": ["dfir:*"] } },
        },
    );
}

/** The triage function only writes its logs and traces. */
export function triagePolicy(logGroupArn: string): PolicyDocument {
    return doc(...logWritePolicy(logGroupArn).Statement, xrayWrite);
}

/**
 * The state machine: invoke its two functions, publish to its (encrypted) topic, deliver its logs and traces.
 * CloudWatch Logs delivery actions have no resource-level permission (Step Functions documents `*`).
 */
export function stateMachinePolicy(functionArns: string[], topicArn: string, topicKeyArn: string): PolicyDocument {
    return doc(
        {
            Sid: "InvokeOwnFunctions",
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: functionArns.flatMap((a) => [a, `${a}:*`]),
        },
        { Sid: "Notify", Effect: "Allow", Action: "sns:Publish", Resource: topicArn },
        { Sid: "NotifyEncrypted", Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: topicKeyArn },
        {
            Sid: "LogDeliveryNoResourceLevelPermission",
            Effect: "Allow",
            Action: [
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            ],
            Resource: "*",
        },
        {
            Sid: "XRayNoResourceLevelPermission",
            Effect: "Allow",
            Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
            Resource: "*",
        },
    );
}

/** EventBridge starts executions of exactly one state machine. */
export function startExecutionPolicy(stateMachineArn: string): PolicyDocument {
    return doc({ Sid: "StartResponse", Effect: "Allow", Action: "states:StartExecution", Resource: stateMachineArn });
}

/** The dead-letter queue accepts events only from the response rule. */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string): PolicyDocument {
    return doc({
        Sid: "FromResponseRuleOnly",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    });
}

/** The actions that could shorten or remove the evidence's protection. */
export const EVIDENCE_TAMPER_ACTIONS = [
    "s3:BypassGovernanceRetention",
    "s3:DeleteObjectVersion",
    "s3:PutBucketObjectLockConfiguration",
] as const;

/**
 * Evidence bucket policy: TLS only, and nobody but the break-glass role may delete versions, bypass governance
 * retention or change the lock configuration. Without a break-glass role the deny covers everyone (COMPLIANCE
 * retention already binds root; this also stops anyone shortening the *default* retention for new evidence).
 */
export function evidenceBucketPolicy(bucketArn: string, breakGlassRoleArn?: string): PolicyDocument {
    const tamper: PolicyStatement = {
        Sid: "DenyEvidenceTampering",
        Effect: "Deny",
        Principal: "*",
        Action: [...EVIDENCE_TAMPER_ACTIONS],
        Resource: [bucketArn, `${bucketArn}/*`],
    };
    if (breakGlassRoleArn) tamper.Condition = { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } };
    return doc(
        {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        tamper,
    );
}

/**
 * Key policy of the notification topic's KMS key. The AWS-managed `aws/sns` key cannot be used: its policy
 * admits no service principal, so CloudWatch alarms could not publish to the topic. The account keeps
 * administration through IAM; CloudWatch may only encrypt for this account's alarms.
 */
export function notificationKeyPolicy(partition: string, accountId: string): PolicyDocument {
    return doc(
        {
            Sid: "AccountAdministersThroughIam",
            Effect: "Allow",
            Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
            Action: "kms:*",
            Resource: "*",
        },
        {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
    );
}
