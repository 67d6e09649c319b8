/**
 * The response state machine (Amazon States Language), built by one pure function so that the component
 * deploys, and the tests and the drill execute, exactly the same definition.
 *
 * First cut: triage guard -> contain every network interface -> notify. Evidence branches, case registry and
 * the approval gate come with the full workflow; nothing here pretends to do them.
 *
 * Input: the EventBridge event exactly as the rule delivers it.
 */

/** The ARNs a definition is wired to. */
export interface DefinitionTargets {
    readonly triageFunctionArn: string;
    readonly containFunctionArn: string;
    readonly topicArn: string;
}

/** Names of the states the rest of the project (tests, drill, docs) refers to. */
export const STATES = {
    triage: "Triage",
    actionable: "Actionable?",
    ignored: "Ignored",
    contain: "Contain",
    notifyContained: "NotifyContained",
    notifyFailure: "NotifyFailure",
    failed: "ContainmentFailed",
} as const;

/**
 * Lambda service faults worth a retry (the function itself did not run or did not finish). The contain
 * function's own errors (InstanceNotFoundError, NoIsolationGroupError, PartialContainmentError, ...) are final
 * and go straight to the Catch: retrying cannot change them, and a retry after a partial change would lose the
 * record of the interfaces' previous groups.
 */
const LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

const retryTransient = [
    { ErrorEquals: LAMBDA_TRANSIENT, IntervalSeconds: 1, MaxAttempts: 4, BackoffRate: 2, JitterStrategy: "FULL" },
];

/** Build the state machine definition (an ASL object; the component serialises it). */
export function buildDefinition(t: DefinitionTargets): Record<string, unknown> {
    return {
        Comment: "aws-dfir response: triage guard, contain every network interface, notify",
        StartAt: STATES.triage,
        States: {
            [STATES.triage]: {
                Type: "Task",
                Comment: "The same triage as `npm run triage`: samples, non-instance findings and bad ids end here",
                Resource: "arn:aws:states:::lambda:invoke",
                Parameters: { FunctionName: t.triageFunctionArn, "Payload.$": "$" },
                ResultSelector: { "verdict.$": "$.Payload" },
                ResultPath: "$.triage",
                Retry: retryTransient,
                Next: STATES.actionable,
            },
            [STATES.actionable]: {
                Type: "Choice",
                Choices: [{ Variable: "$.triage.verdict.decision", StringEquals: "respond", Next: STATES.contain }],
                Default: STATES.ignored,
            },
            [STATES.ignored]: { Type: "Succeed", Comment: "Not actionable: no side effect" },
            [STATES.contain]: {
                Type: "Task",
                Resource: "arn:aws:states:::lambda:invoke",
                Parameters: {
                    FunctionName: t.containFunctionArn,
                    Payload: {
                        "instanceId.$": "$.triage.verdict.instanceId",
                        "caseId.$": "$.triage.verdict.caseId",
                        "findingId.$": "$.triage.verdict.findingId",
                    },
                },
                ResultSelector: { "result.$": "$.Payload" },
                ResultPath: "$.containment",
                Retry: retryTransient,
                Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: STATES.notifyFailure }],
                Next: STATES.notifyContained,
            },
            [STATES.notifyContained]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": "States.Format('dfir: contained {} (case {})', $.triage.verdict.instanceId, $.triage.verdict.caseId)",
                    "Message.$": "States.JsonToString($.containment.result)",
                },
                ResultPath: null,
                Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: "FULL" }],
                End: true,
            },
            [STATES.notifyFailure]: {
                Type: "Task",
                Resource: "arn:aws:states:::sns:publish",
                Parameters: {
                    TopicArn: t.topicArn,
                    "Subject.$": "States.Format('dfir: containment FAILED for {} (case {})', $.triage.verdict.instanceId, $.triage.verdict.caseId)",
                    "Message.$": "States.JsonToString($.error)",
                },
                ResultPath: null,
                Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: "FULL" }],
                Next: STATES.failed,
            },
            [STATES.failed]: {
                Type: "Fail",
                Error: "ContainmentFailed",
                Cause: "The contain step failed; the error and which interfaces changed were published to the topic",
            },
        },
    };
}
