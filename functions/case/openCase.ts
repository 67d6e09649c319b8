/**
 * OpenCase: one open case per instance, whatever the number of deliveries (GuardDuty re-publishes a finding every
 * 15 minutes, EventBridge may deliver twice, several findings may name one instance).
 *
 * Two rounds of AWS calls:
 * 1. all reads at once: DescribeInstances; DescribeInstanceAttribute for disableApiTermination, disableApiStop and
 *    instanceInitiatedShutdownBehavior (one attribute per call); DescribeIamInstanceProfileAssociations; the
 *    open-case lock (GetItem, consistent). With a cross-account target, AssumeRole runs with them (the EC2 reads
 *    wait for its credentials; the table is ours).
 * 2. one write: a new case is the lock and the case record in one TransactWriteItems (both or neither), the lock
 *    conditioned on not existing — and the record too, so a closed case is never overwritten; a repeat appends
 *    the finding id to the open case (only if not already there) with one UpdateItem.
 *
 * Table (hash key `pk`, string) items:
 * - lock `{pk: "OPEN#<account>#<region>#<instanceId>", caseId, openedAt}` — exists while the case is open (release
 *   or close deletes it);
 * - case `{pk: "CASE#<caseId>", caseId, target (map), instance (InstanceRecord as a JSON string), findingIds (list),
 *   status: "OPEN", openedAt, executionArn}`.
 */
import {
    DescribeIamInstanceProfileAssociationsCommand,
    DescribeInstanceAttributeCommand,
    DescribeInstancesCommand,
    type DescribeInstanceAttributeCommandOutput,
    type EC2Client,
} from "@aws-sdk/client-ec2";
import {
    GetItemCommand,
    TransactWriteItemsCommand,
    UpdateItemCommand,
    type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import type { CaseOpened, InstanceRecord, Target } from "../../core/workflow";
import { casePrefix } from "../../core/workflow";
import { assertAssumable, dynamodbClient, ec2Client } from "../lib/aws";
import { partitionOf } from "../../core/containmentPolicies";
import {
    CaseClosedError,
    CaseRecordMissingError,
    InstanceNotFoundError,
    InstanceTerminatedError,
} from "../lib/containmentErrors";
import type { OpenCaseEvent, VerdictInput } from "./event";
import { buildInstanceRecord, caseFlags } from "./record";
import type { CaseSettings } from "./settings";
import { now as clockNow } from "../lib/clock";

/** SDK error names meaning EC2 has no such instance in this account and region. */
const NOT_FOUND_ERRORS = new Set(["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]);
/** States in which there is nothing left to respond to. */
const GONE_STATES = new Set(["terminated", "shutting-down"]);
/** Attempts of the new-case transaction when it is cancelled for a reason other than an existing case. */
const TRANSACTION_ATTEMPTS = 3;

type Item = Record<string, AttributeValue>;

export const lockKey = (t: Target): string => `OPEN#${t.accountId}#${t.region}#${t.instanceId}`;
export const caseKey = (caseId: string): string => `CASE#${caseId}`;

/**
 * The target of a verdict: the finding's account and region, through the responder role when one is configured
 * and the account is not the functions' own.
 */
export function targetFor(verdict: VerdictInput, settings: Pick<CaseSettings, "responderRoleName" | "homeAccountId">): Target {
    const target: Target = { accountId: verdict.accountId, region: verdict.region, instanceId: verdict.instanceId };
    if (settings.responderRoleName && verdict.accountId !== settings.homeAccountId) {
        target.roleArn = `arn:${partitionOf(verdict.region)}:iam::${verdict.accountId}:role/${settings.responderRoleName}`;
    }
    return target;
}

/** Opens the case of the verdict's instance, or adds the finding to the instance's open case. */
export async function openCase(event: OpenCaseEvent, settings: CaseSettings): Promise<CaseOpened> {
    const { verdict, executionArn } = event;
    const flags = flagsFor(verdict);
    const target = event.target ?? targetFor(verdict, settings);
    const instanceId = target.instanceId;
    const now = settings.now ?? clockNow;
    const ec2 = ec2Client({ region: target.region, roleArn: target.roleArn });
    const ddb = dynamodbClient({ region: settings.tableRegion ?? target.region });
    const table = settings.casesTable;
    const lock = { pk: { S: lockKey(target) } };

    // Round 1: every read at once.
    const [assumed, described, termination, stop, shutdown, associations, lockRead] = await Promise.allSettled([
        target.roleArn ? assertAssumable(target) : Promise.resolve(),
        ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
        attribute(ec2, instanceId, "disableApiTermination"),
        attribute(ec2, instanceId, "disableApiStop"),
        attribute(ec2, instanceId, "instanceInitiatedShutdownBehavior"),
        ec2.send(
            new DescribeIamInstanceProfileAssociationsCommand({
                Filters: [
                    { Name: "instance-id", Values: [instanceId] },
                    { Name: "state", Values: ["associated"] },
                ],
            }),
        ),
        ddb.send(new GetItemCommand({ TableName: table, Key: lock, ConsistentRead: true })),
    ]);
    const context = { instanceId, caseId: verdict.caseId };
    if (assumed.status === "rejected") throw assumed.reason;
    if (described.status === "rejected") {
        const error = described.reason;
        if (error instanceof Error && NOT_FOUND_ERRORS.has(error.name)) throw new InstanceNotFoundError(context, { cause: error });
        throw error;
    }
    const instance = (described.value.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .find((i) => i.InstanceId === instanceId);
    if (instance === undefined) throw new InstanceNotFoundError(context);
    const state = instance.State?.Name;
    if (state !== undefined && GONE_STATES.has(state)) throw new InstanceTerminatedError(context, state);
    for (const read of [termination, stop, shutdown, associations, lockRead]) {
        if (read.status === "rejected") throw read.reason;
    }
    const fulfilled = <T>(r: PromiseSettledResult<T>): T => (r as PromiseFulfilledResult<T>).value;
    const record = buildInstanceRecord(
        instance,
        {
            disableApiTermination: fulfilled(termination).DisableApiTermination?.Value ?? false,
            disableApiStop: fulfilled(stop).DisableApiStop?.Value ?? false,
            shutdownBehavior: fulfilled(shutdown).InstanceInitiatedShutdownBehavior?.Value ?? "stop",
        },
        fulfilled(associations).IamInstanceProfileAssociations?.find((a) => a.InstanceId === instanceId),
    );

    // Round 2: one write.
    const existing = fulfilled(lockRead).Item;
    if (existing) return addToCase(lockCaseId(existing, verdict.caseId));

    const caseId = verdict.caseId;
    const openedAt = now().toISOString();
    for (let attempt = 1; ; attempt++) {
        try {
            await ddb.send(
                new TransactWriteItemsCommand({
                    TransactItems: [
                        {
                            Put: {
                                TableName: table,
                                Item: { ...lock, caseId: { S: caseId }, openedAt: { S: openedAt } },
                                ConditionExpression: "attribute_not_exists(pk)",
                            },
                        },
                        {
                            Put: {
                                TableName: table,
                                Item: caseItem(caseId, target, record, verdict.findingId, openedAt, executionArn, triggerRecord(verdict)),
                                ConditionExpression: "attribute_not_exists(pk)",
                                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                            },
                        },
                    ],
                }),
            );
            return opened(caseId, true, [verdict.findingId], openedAt, record);
        } catch (error) {
            if (!(error instanceof Error) || error.name !== "TransactionCanceledException") throw error;
            const reasons = (error as { CancellationReasons?: Array<{ Code?: string; Item?: Item }> }).CancellationReasons ?? [];
            const [lockReason, caseReason] = reasons;
            if (lockReason?.Code !== "ConditionalCheckFailed" && caseReason?.Code === "ConditionalCheckFailed") {
                throw new CaseClosedError({ instanceId, caseId }, caseReason.Item?.status?.S);
            }
            // A concurrent delivery won the race (or the transaction conflicted with one): its case is ours.
            const again = await ddb.send(new GetItemCommand({ TableName: table, Key: lock, ConsistentRead: true }));
            if (again.Item) return addToCase(lockCaseId(again.Item, caseId));
            if (attempt >= TRANSACTION_ATTEMPTS) throw error;
        }
    }

    /**
     * Repeat: append the finding id to the open case unless it is there already, and answer with the case as
     * recorded. The execution that opened the case (a retried Lambda invocation) still gets `isNew: true`.
     */
    async function addToCase(openCaseId: string): Promise<CaseOpened> {
        const key = { pk: { S: caseKey(openCaseId) } };
        let item: Item | undefined;
        try {
            const out = await ddb.send(
                new UpdateItemCommand({
                    TableName: table,
                    Key: key,
                    UpdateExpression: "SET findingIds = list_append(findingIds, :new)",
                    ConditionExpression: "attribute_exists(pk) AND NOT contains(findingIds, :finding)",
                    ExpressionAttributeValues: { ":new": { L: [{ S: verdict.findingId }] }, ":finding": { S: verdict.findingId } },
                    ReturnValues: "ALL_NEW",
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            );
            item = out.Attributes;
        } catch (error) {
            if (!(error instanceof Error) || error.name !== "ConditionalCheckFailedException") throw error;
            // Already recorded (a re-delivery), or no record at all: the item, when it exists, says which.
            item = (error as { Item?: Item }).Item;
            item ??= (await ddb.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
        }
        if (item === undefined || item.instance?.S === undefined) {
            throw new CaseRecordMissingError({ instanceId, caseId: openCaseId });
        }
        const recorded = JSON.parse(item.instance.S) as InstanceRecord;
        const findingIds = (item.findingIds?.L ?? []).flatMap((v) => (v.S !== undefined ? [v.S] : []));
        return opened(openCaseId, item.executionArn?.S === executionArn, findingIds, item.openedAt?.S ?? "", recorded);
    }

    function opened(caseId: string, isNew: boolean, findingIds: string[], openedAt: string, instanceRecord: InstanceRecord): CaseOpened {
        return {
            caseId,
            isNew,
            target,
            findingIds,
            openedAt,
            instance: instanceRecord,
            ...flags(instanceRecord),
            evidence: { bucket: settings.evidenceBucket, prefix: casePrefix(caseId) },
        };
    }
}

/**
 * The instance's tags decide approval and skip; an evidence-only trigger (`dfir:respond=evidence`, `dfir respond
 * --evidence-only`) also skips containment, through the same `skipContainment` Contain already honours.
 */
function flagsFor(verdict: VerdictInput) {
    return (record: InstanceRecord) => {
        const f = caseFlags(record);
        if (verdict.evidenceOnly !== true || f.skipContainment) return f;
        const skipReason = verdict.trigger === "manual" ? "dfir respond --evidence-only" : "dfir:respond=evidence";
        return { ...f, skipContainment: true, skipReason };
    };
}

/** What the case record keeps of the trigger: its kind, and who and why for a manual start. */
export function triggerRecord(verdict: VerdictInput): AttributeValue {
    const m: Item = { kind: { S: verdict.trigger ?? "guardduty" }, evidenceOnly: { BOOL: verdict.evidenceOnly === true } };
    if (verdict.product) m.product = { S: verdict.product };
    if (verdict.requestedBy) m.requestedBy = { S: verdict.requestedBy };
    if (verdict.requestReason) m.reason = { S: verdict.requestReason };
    return { M: m };
}

function attribute(
    ec2: EC2Client,
    instanceId: string,
    name: "disableApiTermination" | "disableApiStop" | "instanceInitiatedShutdownBehavior",
): Promise<DescribeInstanceAttributeCommandOutput> {
    return ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: name }));
}

function lockCaseId(item: Item, fallback: string): string {
    return item.caseId?.S ?? fallback;
}

/** The case record item. The instance record is a JSON string: one attribute, no empty-set or type mapping issues. */
function caseItem(
    caseId: string,
    target: Target,
    record: InstanceRecord,
    findingId: string,
    openedAt: string,
    executionArn: string,
    trigger: AttributeValue,
): Item {
    const targetMap: Item = {
        accountId: { S: target.accountId },
        region: { S: target.region },
        instanceId: { S: target.instanceId },
    };
    if (target.roleArn) targetMap.roleArn = { S: target.roleArn };
    return {
        pk: { S: caseKey(caseId) },
        caseId: { S: caseId },
        target: { M: targetMap },
        instance: { S: JSON.stringify(record) },
        findingIds: { L: [{ S: findingId }] },
        status: { S: "OPEN" },
        openedAt: { S: openedAt },
        executionArn: { S: executionArn },
        trigger,
    };
}

