/**
 * The actions this project's IAM policies grant on `"Resource": "*"`, each because IAM has no resource-level
 * permission for it (AWS Service Authorization Reference: the action's "Resource types" column is empty) — never
 * for convenience. The pack's `iam-no-wildcard-actions` rule flags an Allow on `*` with any other action, and a test
 * pins this list to exactly what the stacks grant, so the documented list (docs/how-it-works.md) cannot drift.
 */
export const NO_RESOURCE_LEVEL_ACTIONS: readonly string[] = [
    // Auto Scaling, EC2 and ELBv2 describe / list calls (OpenCase, Contain, evidence, metadata).
    "autoscaling:DescribeAutoScalingInstances",
    "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeInstances",
    "ec2:DescribeLockedSnapshots",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    // The analysts' dry run reads the isolation groups (dfir plan, through a member's analyst access role).
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "ec2:DescribeVolumes",
    "ec2:DescribeVpcEndpoints",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    // Step Functions' log delivery to CloudWatch Logs (the documented state-machine logging policy).
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    // SSM: the agent check, finding an earlier attempt's capture command, following and cancelling it.
    "ssm:CancelCommand",
    "ssm:DescribeInstanceInformation",
    "ssm:GetCommandInvocation",
    "ssm:ListCommands",
    // X-Ray tracing of the functions and the state machine.
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

/** Actions of an Allow statement on `*` that do have resource-level permissions (should name their resources). Pure. */
export function actionsNeedingResources(actions: readonly string[]): string[] {
    return actions.filter((a) => !NO_RESOURCE_LEVEL_ACTIONS.some((known) => known.toLowerCase() === a.toLowerCase()));
}
