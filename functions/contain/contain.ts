/**
 * First-cut network containment of one EC2 instance: every network interface is moved to its VPC's isolation
 * security group, then the instance is tagged. Kept free of Lambda concerns so it can be driven by tests, the
 * handler, or a script with any configured {@link EC2Client}.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  type Instance,
  type Tag,
} from "@aws-sdk/client-ec2";
import {
  InstanceNotFoundError,
  InstanceTerminatedError,
  InvalidRequestError,
  NoIsolationGroupError,
  PartialContainmentError,
  UnsupportedNetworkLayoutError,
  type InterfaceChange,
  type InterfaceFailure,
} from "./errors";
import { TAGS } from "../../core/tags";
import { INSTANCE_ID_PATTERN } from "../../core/triage";

export type { InterfaceChange, InterfaceFailure } from "./errors";

// The tag contract lives in core/tags.ts: the pack, the analyst tools and this function read the same names.
const TAG_CASE_ID = TAGS.caseId;
/** Only ever set to "isolated", and only when every interface is isolated: others may rely on it. */
const TAG_STATUS = TAGS.status;
/** When isolation completed; reported again by idempotent repeats instead of the time of the repeat. */
const TAG_ISOLATED_AT = TAGS.isolatedAt;
/** Its presence is what makes a repeat a no-op. */
const STATUS_ISOLATED = TAGS.statusIsolated;

/** EC2 rejects tag values longer than this; the case id becomes a tag value, so it is checked up front. */
const MAX_TAG_VALUE_LENGTH = 256;
/** SDK error names meaning EC2 has no such instance in this account and region. */
const NOT_FOUND_ERRORS = new Set(["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]);
/** States in which there is nothing left to contain. */
const GONE_STATES = new Set(["terminated", "shutting-down"]);

/** What to contain and the case it belongs to; the finding id is carried for the logs. */
export interface ContainRequest {
  instanceId: string;
  caseId: string;
  findingId?: string;
}

/** Deployment-specific inputs, passed in rather than read from the environment so the logic stays testable. */
export interface ContainSettings {
  /** vpcId -> isolation security group id. One group per VPC because a security group belongs to one VPC. */
  isolationGroups: Readonly<Record<string, string>>;
  /** Clock for `dfir:isolated-at`; injectable so tests are deterministic. @default () => new Date() */
  now?: () => Date;
}

/**
 * The record of a containment. `changed` keeps every moved interface's previous groups: it is what a later
 * release step needs to restore the instance, so callers must persist it.
 */
export interface ContainResult {
  instanceId: string;
  caseId: string;
  vpcId: string;
  securityGroupId: string;
  changed: InterfaceChange[];
  /** Interfaces whose only group was already the isolation group (no call made for them). */
  alreadyIsolated: string[];
  /** Whether this invocation wrote the `dfir:*` tags. False on an idempotent repeat, or when tagging failed. */
  tagged: boolean;
  /**
   * Why tagging failed after every interface was isolated. The network containment stands and the record above
   * is still returned (failing here would make a retry see only already-isolated interfaces and lose the
   * previous groups); the next run re-tags because the status tag is missing.
   */
  tagError?: string;
  /** ISO time of isolation; on an idempotent repeat, the existing `dfir:isolated-at` tag when there is one. */
  isolatedAt: string;
  status: "isolated" | "already-isolated";
}

/**
 * Checks an untrusted request (a Lambda event, or a typed request built from one) and returns only the known
 * fields. Everything is checked before any AWS call so a bad request can never cause a partial change, and the
 * case id is held to the tag-value limit because it is tagged only after the interfaces have moved.
 */
export function parseContainRequest(input: unknown): ContainRequest {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidRequestError([`request must be an object, got ${describeType(input)}`]);
  }
  const { instanceId, caseId, findingId } = input as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof instanceId !== "string" || !INSTANCE_ID_PATTERN.test(instanceId)) {
    problems.push(`instanceId must be an EC2 instance id (i- and 8 or 17 hex digits), got ${preview(instanceId)}`);
  }
  if (typeof caseId !== "string" || caseId.trim() === "") {
    problems.push(`caseId must be a non-empty string, got ${preview(caseId)}`);
  } else if (caseId.length > MAX_TAG_VALUE_LENGTH) {
    problems.push(`caseId must be at most ${MAX_TAG_VALUE_LENGTH} characters (it becomes a tag value)`);
  }
  if (findingId !== undefined && (typeof findingId !== "string" || findingId === "")) {
    problems.push(`findingId, when present, must be a non-empty string, got ${preview(findingId)}`);
  }
  const context = {
    instanceId: typeof instanceId === "string" ? instanceId : undefined,
    caseId: typeof caseId === "string" ? caseId : undefined,
  };
  if (problems.length > 0) throw new InvalidRequestError(problems, context);
  const request: ContainRequest = { instanceId: instanceId as string, caseId: caseId as string };
  if (findingId !== undefined) request.findingId = findingId as string;
  return request;
}

/**
 * Moves every network interface of the instance to its VPC's isolation group, in parallel, and tags the
 * instance. All interfaces, not just the primary: a security group applies per interface, and
 * `ModifyInstanceAttribute --groups` would only change the primary one.
 *
 * Safe to repeat (GuardDuty re-publishes a finding every 15 minutes): an instance already isolated and tagged
 * costs one DescribeInstances. Nothing is changed when the instance is missing, terminated, or its VPC has no
 * isolation group. If some interfaces move and others do not, a {@link PartialContainmentError} is the record.
 */
export async function containInstance(
  ec2: EC2Client,
  request: ContainRequest,
  settings: ContainSettings,
): Promise<ContainResult> {
  const { instanceId, caseId } = parseContainRequest(request);
  const context = { instanceId, caseId };
  const now = settings.now ?? (() => new Date());

  const instance = await describeInstance(ec2, context);
  const state = instance.State?.Name;
  if (state !== undefined && GONE_STATES.has(state)) throw new InstanceTerminatedError(context, state);

  const interfaces = listInterfaces(instance, context);
  const vpcId = singleVpc(interfaces, context);
  if (!Object.hasOwn(settings.isolationGroups, vpcId)) throw new NoIsolationGroupError(context, vpcId);
  const securityGroupId = settings.isolationGroups[vpcId];

  const alreadyIsolated = interfaces.filter((eni) => isOnlyIn(eni.groups, securityGroupId)).map((eni) => eni.id);
  const toChange = interfaces.filter((eni) => !isOnlyIn(eni.groups, securityGroupId));
  const statusTag = tagValue(instance.Tags, TAG_STATUS);

  if (toChange.length === 0 && statusTag === STATUS_ISOLATED) {
    return {
      instanceId,
      caseId,
      vpcId,
      securityGroupId,
      changed: [],
      alreadyIsolated,
      tagged: false,
      isolatedAt: tagValue(instance.Tags, TAG_ISOLATED_AT) ?? now().toISOString(),
      status: "already-isolated",
    };
  }

  // All calls are issued before any is awaited: a slow or failing interface must not delay the others.
  const outcomes = await Promise.allSettled(
    toChange.map((eni) =>
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: [securityGroupId] }),
      ),
    ),
  );
  const changed: InterfaceChange[] = [];
  const failed: InterfaceFailure[] = [];
  const reasons: unknown[] = [];
  outcomes.forEach((outcome, index) => {
    const { id, groups } = toChange[index];
    if (outcome.status === "fulfilled") {
      changed.push({ networkInterfaceId: id, previousGroups: groups });
    } else {
      failed.push({ networkInterfaceId: id, previousGroups: groups, error: errorText(outcome.reason) });
      reasons.push(outcome.reason);
    }
  });

  if (failed.length > 0) {
    // The status tag is reserved for complete isolation; the case id still marks the instance as under response.
    const caseTagged =
      (await tryCreateTags(ec2, instanceId, [{ Key: TAG_CASE_ID, Value: caseId }])) === undefined;
    throw new PartialContainmentError(
      context,
      { vpcId, securityGroupId, changed, failed, alreadyIsolated, caseTagged },
      { cause: new AggregateError(reasons, `${failed.length} ModifyNetworkInterfaceAttribute call(s) failed`) },
    );
  }

  const isolatedAt = now().toISOString();
  const tagError = await tryCreateTags(ec2, instanceId, [
    { Key: TAG_CASE_ID, Value: caseId },
    { Key: TAG_STATUS, Value: STATUS_ISOLATED },
    { Key: TAG_ISOLATED_AT, Value: isolatedAt },
  ]);
  const result: ContainResult = {
    instanceId,
    caseId,
    vpcId,
    securityGroupId,
    changed,
    alreadyIsolated,
    tagged: tagError === undefined,
    isolatedAt,
    status: "isolated",
  };
  if (tagError !== undefined) result.tagError = tagError;
  return result;
}

interface InterfaceGroups {
  id: string;
  groups: string[];
}

type Subject = { instanceId: string; caseId: string };

async function describeInstance(ec2: EC2Client, context: Subject): Promise<Instance> {
  let output;
  try {
    output = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [context.instanceId] }));
  } catch (error) {
    if (error instanceof Error && NOT_FOUND_ERRORS.has(error.name)) {
      throw new InstanceNotFoundError(context, { cause: error });
    }
    throw error;
  }
  const instance = (output.Reservations ?? [])
    .flatMap((reservation) => reservation.Instances ?? [])
    .find((candidate) => candidate.InstanceId === context.instanceId);
  if (instance === undefined) throw new InstanceNotFoundError(context);
  return instance;
}

function listInterfaces(instance: Instance, context: Subject): Array<InterfaceGroups & { vpcId: string }> {
  const interfaces = instance.NetworkInterfaces ?? [];
  if (interfaces.length === 0) {
    throw new UnsupportedNetworkLayoutError(context, "EC2 reported no network interfaces");
  }
  return interfaces.map((eni, index) => {
    if (!eni.NetworkInterfaceId || !eni.VpcId) {
      throw new UnsupportedNetworkLayoutError(context, `network interface #${index} has no id or no VPC id`);
    }
    const groups = (eni.Groups ?? []).flatMap((group) => (group.GroupId ? [group.GroupId] : []));
    return { id: eni.NetworkInterfaceId, vpcId: eni.VpcId, groups };
  });
}

function singleVpc(interfaces: ReadonlyArray<{ vpcId: string }>, context: Subject): string {
  const vpcIds = [...new Set(interfaces.map((eni) => eni.vpcId))];
  if (vpcIds.length !== 1) {
    throw new UnsupportedNetworkLayoutError(context, `network interfaces span several VPCs: ${vpcIds.join(", ")}`);
  }
  return vpcIds[0];
}

function isOnlyIn(groups: readonly string[], securityGroupId: string): boolean {
  return groups.length === 1 && groups[0] === securityGroupId;
}

function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}

/** Returns undefined on success, else the error text: tagging never decides whether containment happened. */
async function tryCreateTags(ec2: EC2Client, instanceId: string, tags: Tag[]): Promise<string | undefined> {
  try {
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags }));
    return undefined;
  } catch (error) {
    return errorText(error);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

function preview(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return describeType(value);
}
