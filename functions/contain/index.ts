/**
 * Lambda entry point for the contain step: parses the event and the configuration, runs
 * {@link containInstance}, logs what changed, and returns the record for the state machine.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { containInstance, parseContainRequest, type ContainResult } from "./contain";
import { ConfigurationError, ContainmentError } from "./errors";

/** Name of the environment variable holding the isolation groups, used in configuration errors. */
const ISOLATION_GROUPS_ENV = "ISOLATION_GROUPS";
const VPC_ID = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

// Created once per execution environment so warm invocations reuse its connections.
const ec2 = new EC2Client({});

/** The part of the Lambda context this handler uses; a local type keeps the bundle free of aws-lambda typings. */
export interface InvocationContext {
  readonly awsRequestId?: string;
}

/**
 * Contains the instance named by the event (`{ instanceId, caseId, findingId? }`) and returns the
 * {@link ContainResult}. Errors are logged and rethrown unchanged so the state machine can catch them by name.
 */
export async function handler(event: unknown, context?: InvocationContext): Promise<ContainResult> {
  const keys = logKeys(event, context);
  try {
    const isolationGroups = parseIsolationGroups(process.env[ISOLATION_GROUPS_ENV]);
    const request = parseContainRequest(event);
    const result = await containInstance(ec2, request, { isolationGroups });
    logResult(result, keys);
    return result;
  } catch (error) {
    log("ERROR", "containment failed", { ...keys, error: errorData(error) });
    throw error;
  }
}

/**
 * Reads the vpcId -> isolation security group map. Checked on every invocation (it is tiny) so a bad deployment
 * fails each request with a {@link ConfigurationError} naming the variable, rather than an init crash.
 */
function parseIsolationGroups(raw: string | undefined): Record<string, string> {
  const expected = 'a JSON object mapping VPC ids to isolation security group ids, e.g. {"vpc-0123abcd":"sg-0123abcd"}';
  if (raw === undefined || raw.trim() === "") {
    throw new ConfigurationError(ISOLATION_GROUPS_ENV, `is not set; expected ${expected}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConfigurationError(ISOLATION_GROUPS_ENV, `is not valid JSON; expected ${expected}`, { cause: error });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError(ISOLATION_GROUPS_ENV, `is not a JSON object; expected ${expected}`);
  }
  const entries = Object.entries(parsed);
  if (entries.length === 0) {
    throw new ConfigurationError(ISOLATION_GROUPS_ENV, `is an empty object; expected ${expected}`);
  }
  const isValid = ([vpcId, groupId]: [string, unknown]) =>
    VPC_ID.test(vpcId) && typeof groupId === "string" && SECURITY_GROUP_ID.test(groupId);
  const bad = entries
    .filter((entry) => !isValid(entry))
    .map(([vpcId, groupId]) => `${JSON.stringify(vpcId)}: ${JSON.stringify(groupId)}`);
  if (bad.length > 0) {
    throw new ConfigurationError(ISOLATION_GROUPS_ENV, `has invalid entries (${bad.join(", ")}); expected ${expected}`);
  }
  return Object.fromEntries(entries as Array<[string, string]>);
}

type LogKeys = Record<string, string>;

/** Correlation keys appended to every log line; taken from the raw event so even a rejected event is traceable. */
function logKeys(event: unknown, context: InvocationContext | undefined): LogKeys {
  const keys: LogKeys = {};
  if (typeof event === "object" && event !== null) {
    for (const key of ["caseId", "instanceId", "findingId"] as const) {
      const value = (event as Record<string, unknown>)[key];
      if (typeof value === "string") keys[key] = value;
    }
  }
  if (context?.awsRequestId) keys.requestId = context.awsRequestId;
  return keys;
}

function logResult(result: ContainResult, keys: LogKeys): void {
  for (const change of result.changed) {
    log("INFO", "isolated network interface", {
      ...keys,
      networkInterfaceId: change.networkInterfaceId,
      previousGroups: change.previousGroups,
      securityGroupId: result.securityGroupId,
    });
  }
  if (result.tagError !== undefined) {
    log("ERROR", "instance isolated but not tagged", { ...keys, tagError: result.tagError });
  }
  log("INFO", result.status === "already-isolated" ? "instance already isolated" : "instance isolated", {
    ...keys,
    result,
  });
}

function errorData(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: "NonError", message: String(error) };
  // Own fields of our errors are their context (ids, problems, changed/failed interfaces); `cause` is not enumerable.
  const fields = error instanceof ContainmentError ? { ...error } : {};
  return { ...fields, name: error.name, message: error.message };
}

function log(level: "INFO" | "ERROR", message: string, data: Record<string, unknown>): void {
  console.log(JSON.stringify({ level, message, ...data }));
}
