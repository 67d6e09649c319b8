/**
 * Parsing of the Contain event (`{ case: CaseOpened }`, as OpenCase returned it) and of its parts that other
 * handlers share (the target). Events are parsed, not trusted: every problem is collected and reported at once,
 * before any AWS call, and only known fields are kept.
 *
 * Example event (abridged):
 * `{"case":{"caseId":"i-0123456789abcdef0-3f2a1b4c5d6e","isNew":true,
 *   "target":{"accountId":"111122223333","region":"eu-west-1","instanceId":"i-0123456789abcdef0"},
 *   "findingIds":["60c2..."],"openedAt":"2025-01-02T03:04:05.000Z",
 *   "instance":{"instanceId":"i-0123456789abcdef0","state":"running","platform":"linux","vpcId":"vpc-0a1b2c3d",
 *     "networkInterfaces":[{"networkInterfaceId":"eni-0a","groups":["sg-01"],"deviceIndex":0,"ipv6Addresses":[]}],
 *     "volumes":[{"volumeId":"vol-0a","deviceName":"/dev/xvda","deleteOnTermination":true,"root":true}],
 *     "tags":{"Name":"web-1"},"disableApiTermination":false,"disableApiStop":false,"shutdownBehavior":"stop"},
 *   "approvalRequired":false,"skipContainment":false,
 *   "evidence":{"bucket":"dfir-evidence","prefix":"cases/i-0123456789abcdef0-3f2a1b4c5d6e/"}}}`
 */
import type { CaseOpened, InstanceRecord, InterfaceRecord, Target, VolumeRecord } from "../../core/workflow";
import { INSTANCE_ID_PATTERN } from "../../core/triage";
import { InvalidRequestError } from "./errors";

/** EC2 rejects tag values longer than this; the case id becomes a tag value. */
export const MAX_TAG_VALUE_LENGTH = 256;
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ENI_ID = /^eni-[0-9a-f]{8,17}$/;
const INSTANCE_PROFILE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/;

/** The Contain event. A repeat delivery is `case.isNew === false`. */
export interface ContainEvent {
    case: CaseOpened;
}

type Problems = string[];
type Obj = Record<string, unknown>;

const isObject = (value: unknown): value is Obj =>
    typeof value === "object" && value !== null && !Array.isArray(value);

function describeType(value: unknown): string {
    if (value === null) return "null";
    return Array.isArray(value) ? "array" : typeof value;
}

/** A short, safe rendering of a bad value for an error message. */
export function preview(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    return describeType(value);
}

function str(o: Obj, key: string, path: string, p: Problems, pattern?: RegExp): string {
    const v = o[key];
    if (typeof v !== "string" || v === "" || (pattern !== undefined && !pattern.test(v))) {
        p.push(`${path}.${key} must be ${pattern ? `a string matching ${pattern}` : "a non-empty string"}, got ${preview(v)}`);
        return "";
    }
    return v;
}

function optStr(o: Obj, key: string, path: string, p: Problems, pattern?: RegExp): string | undefined {
    return o[key] === undefined ? undefined : str(o, key, path, p, pattern);
}

function bool(o: Obj, key: string, path: string, p: Problems): boolean {
    const v = o[key];
    if (typeof v !== "boolean") p.push(`${path}.${key} must be a boolean, got ${preview(v)}`);
    return v === true;
}

function strings(o: Obj, key: string, path: string, p: Problems): string[] {
    const v = o[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
        p.push(`${path}.${key} must be an array of strings, got ${preview(v)}`);
        return [];
    }
    return [...v] as string[];
}

function obj(o: Obj, key: string, path: string, p: Problems): Obj | undefined {
    const v = o[key];
    if (!isObject(v)) {
        p.push(`${path}.${key} must be an object, got ${preview(v)}`);
        return undefined;
    }
    return v;
}

/** Where the instance lives; `roleArn` only when present. */
export function parseTarget(value: unknown, path: string, p: Problems): Target {
    if (!isObject(value)) {
        p.push(`${path} must be an object, got ${preview(value)}`);
        return { accountId: "", region: "", instanceId: "" };
    }
    const target: Target = {
        accountId: str(value, "accountId", path, p, ACCOUNT_ID),
        region: str(value, "region", path, p, REGION),
        instanceId: str(value, "instanceId", path, p, INSTANCE_ID_PATTERN),
    };
    const roleArn = optStr(value, "roleArn", path, p, ROLE_ARN);
    if (roleArn !== undefined) target.roleArn = roleArn;
    return target;
}

function parseInterface(value: unknown, path: string, p: Problems): InterfaceRecord {
    const o = isObject(value) ? value : (p.push(`${path} must be an object, got ${preview(value)}`), {});
    const deviceIndex = o.deviceIndex;
    if (typeof deviceIndex !== "number" || !Number.isInteger(deviceIndex) || deviceIndex < 0) {
        p.push(`${path}.deviceIndex must be a non-negative integer, got ${preview(deviceIndex)}`);
    }
    const record: InterfaceRecord = {
        networkInterfaceId: str(o, "networkInterfaceId", path, p, ENI_ID),
        groups: strings(o, "groups", path, p),
        deviceIndex: typeof deviceIndex === "number" ? deviceIndex : 0,
        ipv6Addresses: strings(o, "ipv6Addresses", path, p),
        ...(o.privateIpAddresses !== undefined ? { privateIpAddresses: strings(o, "privateIpAddresses", path, p) } : {}),
    };
    // Recorded by newer OpenCase versions: the interface's own VPC, subnet and addresses.
    for (const key of ["vpcId", "subnetId", "publicIp"] as const) {
        const v = optStr(o, key, path, p);
        if (v !== undefined) record[key] = v;
    }
    if (o.privateIpAddresses !== undefined) record.privateIpAddresses = strings(o, "privateIpAddresses", path, p);
    return record;
}

function parseVolume(value: unknown, path: string, p: Problems): VolumeRecord {
    const o = isObject(value) ? value : (p.push(`${path} must be an object, got ${preview(value)}`), {});
    return {
        volumeId: str(o, "volumeId", path, p),
        deviceName: str(o, "deviceName", path, p),
        deleteOnTermination: bool(o, "deleteOnTermination", path, p),
        root: bool(o, "root", path, p),
    };
}

/** The instance record as OpenCase built it (and the case table keeps it). */
export function parseInstanceRecord(value: unknown, path: string, p: Problems): InstanceRecord {
    const o = isObject(value) ? value : (p.push(`${path} must be an object, got ${preview(value)}`), {});
    const list = (key: string): unknown[] => {
        const v = o[key];
        if (!Array.isArray(v)) {
            p.push(`${path}.${key} must be an array, got ${preview(v)}`);
            return [];
        }
        return v;
    };
    const tags: Record<string, string> = {};
    const rawTags = obj(o, "tags", path, p) ?? {};
    for (const [k, v] of Object.entries(rawTags)) {
        if (typeof v === "string") tags[k] = v;
        else p.push(`${path}.tags[${JSON.stringify(k)}] must be a string, got ${preview(v)}`);
    }
    const platform = o.platform === "windows" ? "windows" : "linux";
    if (o.platform !== "windows" && o.platform !== "linux") {
        p.push(`${path}.platform must be "linux" or "windows", got ${preview(o.platform)}`);
    }
    const record: InstanceRecord = {
        instanceId: str(o, "instanceId", path, p, INSTANCE_ID_PATTERN),
        state: str(o, "state", path, p),
        platform,
        vpcId: typeof o.vpcId === "string" ? o.vpcId : (p.push(`${path}.vpcId must be a string, got ${preview(o.vpcId)}`), ""),
        networkInterfaces: list("networkInterfaces").map((eni, i) => parseInterface(eni, `${path}.networkInterfaces[${i}]`, p)),
        volumes: list("volumes").map((vol, i) => parseVolume(vol, `${path}.volumes[${i}]`, p)),
        tags,
        disableApiTermination: bool(o, "disableApiTermination", path, p),
        disableApiStop: bool(o, "disableApiStop", path, p),
        shutdownBehavior: str(o, "shutdownBehavior", path, p),
    };
    for (const key of ["subnetId", "availabilityZone", "imageId", "launchTime"] as const) {
        const v = optStr(o, key, path, p);
        if (v !== undefined) record[key] = v;
    }
    if (o.iamInstanceProfile !== undefined && o.iamInstanceProfile !== null) {
        const ip = obj(o, "iamInstanceProfile", path, p);
        if (ip) {
            record.iamInstanceProfile = {
                arn: str(ip, "arn", `${path}.iamInstanceProfile`, p, INSTANCE_PROFILE_ARN),
                associationId: str(ip, "associationId", `${path}.iamInstanceProfile`, p),
            };
        }
    }
    return record;
}

/** Parse `{ case: CaseOpened }`; throws {@link InvalidRequestError} listing every problem. */
export function parseContainEvent(input: unknown): ContainEvent {
    const p: Problems = [];
    if (!isObject(input)) throw new InvalidRequestError([`event must be an object, got ${preview(input)}`]);
    if (!isObject(input.case)) throw new InvalidRequestError([`event.case must be an object, got ${preview(input.case)}`]);
    const c = input.case;
    const caseId = str(c, "caseId", "case", p);
    if (caseId.length > MAX_TAG_VALUE_LENGTH) {
        p.push(`case.caseId must be at most ${MAX_TAG_VALUE_LENGTH} characters (it becomes a tag value)`);
    }
    const target = parseTarget(c.target, "case.target", p);
    const instance = parseInstanceRecord(c.instance, "case.instance", p);
    if (instance.instanceId !== "" && target.instanceId !== "" && instance.instanceId !== target.instanceId) {
        p.push(`case.instance.instanceId ${instance.instanceId} differs from case.target.instanceId ${target.instanceId}`);
    }
    const evidence = obj(c, "evidence", "case", p) ?? {};
    const parsed: CaseOpened = {
        caseId,
        isNew: bool(c, "isNew", "case", p),
        target,
        findingIds: strings(c, "findingIds", "case", p),
        openedAt: str(c, "openedAt", "case", p),
        instance,
        approvalRequired: bool(c, "approvalRequired", "case", p),
        skipContainment: bool(c, "skipContainment", "case", p),
        evidence: { bucket: str(evidence, "bucket", "case.evidence", p), prefix: str(evidence, "prefix", "case.evidence", p) },
    };
    if (p.length > 0) {
        throw new InvalidRequestError(p, {
            instanceId: target.instanceId || undefined,
            caseId: caseId || undefined,
        });
    }
    return { case: parsed };
}
