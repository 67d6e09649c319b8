/**
 * Request validation against AWS's published service models, as the installed SDK v3 clients carry them.
 *
 * Each `@aws-sdk/client-*` package exports its Smithy model as static schema arrays (`dist-cjs/index.js`):
 * an operation `X$ = [9, namespace, name, traits, () => XRequest$, () => XResult$]`, a structure
 * `[3, namespace, name, traits, memberNames, memberSchemas, requiredCount]` whose first `requiredCount` members are
 * the ones the model marks `@required`, a list `[1, ns, name, traits, member]`, a map `[2, ns, name, traits, key,
 * value]`, a union `[4, ...]` laid out like a structure, a simple type with traits `[0, ns, name, traits, type]`,
 * and a member with traits `[target, traits]`. Simple types are numbers: 0 string, 1 number, 2 boolean, 4-7
 * timestamp, 15 document, 17/19 big number, 21 blob, 42 streaming blob; 64+t a list of t, 128+t a map of t.
 * Enums are not in the schema arrays (an enum member is a plain string 0): their value sets are the runtime
 * objects the client exports (`ec2.VolumeType`), and which member uses which enum is read once per service from
 * the client's `dist-types/models/models_*.d.ts` (`VolumeType?: VolumeType | undefined;` in `interface
 * CreateVolumeRequest`, `X[]` for a list of enum values, `Record<string, X>` for a map).
 *
 * Checked: required members (recursively, into nested structures, list elements and map values), member types,
 * enum values. Not checked: lengths, ranges, string patterns, and members the model does not name (the SDK drops
 * those before sending).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { awsError, type SimService } from "./errors";

/** The SDK package carrying each simulated service's model. SNS has none installed (see {@link MODEL_EXCEPTIONS}). */
export const MODEL_PACKAGE: Partial<Record<SimService, string>> = {
    ec2: "@aws-sdk/client-ec2",
    autoscaling: "@aws-sdk/client-auto-scaling",
    elbv2: "@aws-sdk/client-elastic-load-balancing-v2",
    iam: "@aws-sdk/client-iam",
    sts: "@aws-sdk/client-sts",
    s3: "@aws-sdk/client-s3",
    dynamodb: "@aws-sdk/client-dynamodb",
    ssm: "@aws-sdk/client-ssm",
    kms: "@aws-sdk/client-kms",
    ebs: "@aws-sdk/client-ebs",
};

/**
 * Simulated operations validated against no model, each with why. A test asserts every other simulated operation
 * has one.
 */
export const MODEL_EXCEPTIONS: Record<string, string> = {
    // The drill's notify states publish through the simulator directly (SimulatedAccount.publish); the project
    // does not depend on @aws-sdk/client-sns, so no SNS model is installed. The simulator builds that request itself.
    "sns:Publish": "no @aws-sdk/client-sns installed (the simulator builds the request itself)",
};

/** One problem found in a request: what kind, and the member path (`InstanceSpecification.InstanceId`). */
export interface ShapeProblem {
    kind: "missing" | "type" | "enum";
    path: string;
    expected: string;
    value?: unknown;
}

type Raw = unknown;
type Module = Record<string, unknown>;

interface Member {
    name: string;
    target: Raw;
    required: boolean;
}

interface Struct {
    kind: "struct" | "union";
    name: string;
    members: Member[];
}

const modules = new Map<SimService, Module | null>();
const enumTables = new Map<SimService, Map<string, Map<string, Set<string>>>>();
const structCache = new WeakMap<object, Struct>();
const inputCache = new Map<string, Struct | null>();

function moduleOf(service: SimService): Module | null {
    let mod = modules.get(service);
    if (mod === undefined) {
        const pkg = MODEL_PACKAGE[service];
        mod = pkg ? (require(pkg) as Module) : null;
        modules.set(service, mod);
    }
    return mod;
}

/** interface name -> member name -> enum value set, from the client's declaration files (once per service). */
function enumTable(service: SimService): Map<string, Map<string, Set<string>>> {
    let table = enumTables.get(service);
    if (table) return table;
    table = new Map();
    enumTables.set(service, table);
    const pkg = MODEL_PACKAGE[service];
    const mod = moduleOf(service);
    if (!pkg || !mod) return table;
    const dir = path.join(path.dirname(require.resolve(pkg)), "..", "dist-types", "models");
    const values = new Map<string, Set<string> | null>();
    const enumValues = (typeName: string): Set<string> | null => {
        let set = values.get(typeName);
        if (set === undefined) {
            const candidate = mod[typeName];
            set = null;
            if (candidate && typeof candidate === "object" && !Array.isArray(candidate)) {
                const vals = Object.values(candidate as Record<string, unknown>);
                if (vals.length > 0 && vals.every((v) => typeof v === "string")) set = new Set(vals as string[]);
            }
            values.set(typeName, set);
        }
        return set;
    };
    for (const file of fs.readdirSync(dir)) {
        if (!/^models_\d+\.d\.ts$/.test(file)) continue;
        const text = fs.readFileSync(path.join(dir, file), "utf8");
        const iface = /^export interface (\w+) \{$/gm;
        let m: RegExpExecArray | null;
        while ((m = iface.exec(text))) {
            const end = text.indexOf("\n}", iface.lastIndex);
            const body = text.slice(iface.lastIndex, end < 0 ? undefined : end);
            const memberRe = /^ {4}(\w+)\??: (?:(\w+)(\[\])?|Record<string, (\w+)>) \| undefined;$/gm;
            let mm: RegExpExecArray | null;
            let members: Map<string, Set<string>> | undefined;
            while ((mm = memberRe.exec(body))) {
                const typeName = (mm[2] ?? mm[4]) as string;
                if (typeName === "string" || typeName === "number" || typeName === "boolean") continue;
                const set = enumValues(typeName);
                if (!set) continue;
                members ??= new Map();
                members.set(mm[1] as string, set);
            }
            if (members) table.set(m[1] as string, members);
            iface.lastIndex = end < 0 ? text.length : end;
        }
    }
    return table;
}

function deref(ref: Raw): Raw {
    return typeof ref === "function" ? (ref as () => Raw)() : ref;
}

/** Strip member traits (`[target, traits]`) and simple-type wrappers (`[0, ns, name, traits, type]`). */
function unwrap(ref: Raw): Raw {
    let sc = deref(ref);
    for (;;) {
        if (Array.isArray(sc) && sc.length === 2) sc = deref(sc[0]);
        else if (Array.isArray(sc) && sc[0] === 0 && sc.length >= 5) sc = deref(sc[4]);
        else return sc;
    }
}

function structOf(sc: unknown[]): Struct {
    let struct = structCache.get(sc);
    if (!struct) {
        const names = sc[4] as string[];
        const targets = sc[5] as Raw[];
        const requiredCount = typeof sc[6] === "number" ? sc[6] : 0;
        struct = {
            kind: sc[0] === 4 ? "union" : "struct",
            name: String(sc[2]),
            members: names.map((name, i) => ({ name, target: targets[i], required: i < requiredCount })),
        };
        structCache.set(sc, struct);
    }
    return struct;
}

/** The model's input structure of `service`:`operation`, or undefined when the installed clients have none. */
export function inputShape(service: SimService, operation: string): Struct | undefined {
    const key = `${service}:${operation}`;
    let cached = inputCache.get(key);
    if (cached === undefined) {
        cached = null;
        const op = moduleOf(service)?.[`${operation}$`];
        if (Array.isArray(op) && op[0] === 9) {
            const input = unwrap(op[4]);
            if (Array.isArray(input) && input[0] === 3) cached = structOf(input);
        }
        inputCache.set(key, cached);
    }
    return cached ?? undefined;
}

/** Whether the installed SDK models this operation. */
export function hasModel(service: SimService, operation: string): boolean {
    return inputShape(service, operation) !== undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date) && !ArrayBuffer.isView(value);
}

function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "list";
    if (value instanceof Date) return "timestamp";
    return typeof value;
}

class Checker {
    readonly problems: ShapeProblem[] = [];
    constructor(private readonly enums: Map<string, Map<string, Set<string>>>) {}

    /** `value` against `ref`; `enumSet` applies to the string values at this level or inside a list/map of them. */
    check(ref: Raw, value: unknown, at: string, enumSet?: Set<string>): void {
        const sc = unwrap(ref);
        if (typeof sc === "number") return this.simple(sc, value, at, enumSet);
        if (!Array.isArray(sc)) return; // "unit" or anything unknown: nothing to check.
        switch (sc[0]) {
            case 1: {
                if (!Array.isArray(value)) return this.bad(at, "list", value);
                value.forEach((item, i) => this.check(sc[4], item, `${at}.${i + 1}`, enumSet));
                return;
            }
            case 2: {
                if (!isPlainObject(value)) return this.bad(at, "map", value);
                for (const [k, v] of Object.entries(value)) this.check(sc[5], v, `${at}.${k}`, enumSet);
                return;
            }
            case 3:
            case 4:
                return this.structure(structOf(sc), value, at);
            default:
                return;
        }
    }

    structure(struct: Struct, value: unknown, at: string): void {
        if (!isPlainObject(value)) return this.bad(at, "structure", value);
        const enums = this.enums.get(struct.name);
        let set = 0;
        for (const member of struct.members) {
            const v = value[member.name];
            const where = at ? `${at}.${member.name}` : member.name;
            if (v === undefined || v === null) {
                if (member.required) this.problems.push({ kind: "missing", path: where, expected: "present" });
                continue;
            }
            set += 1;
            this.check(member.target, v, where, enums?.get(member.name));
        }
        if (struct.kind === "union" && set !== 1) {
            this.problems.push({ kind: "type", path: at, expected: `structure with exactly one member set (${set} set)`, value });
        }
    }

    private simple(sc: number, value: unknown, at: string, enumSet?: Set<string>): void {
        if (sc >= 64 && sc < 128) {
            if (!Array.isArray(value)) return this.bad(at, "list", value);
            value.forEach((item, i) => this.simple(sc & 0b0011_1111, item, `${at}.${i + 1}`, enumSet));
            return;
        }
        if (sc >= 128 && sc <= 255) {
            if (!isPlainObject(value)) return this.bad(at, "map", value);
            for (const [k, v] of Object.entries(value)) this.simple(sc & 0b0011_1111, v, `${at}.${k}`, enumSet);
            return;
        }
        switch (sc) {
            case 0:
                if (typeof value !== "string") return this.bad(at, "string", value);
                if (enumSet && !enumSet.has(value)) this.problems.push({ kind: "enum", path: at, expected: [...enumSet].join(", "), value });
                return;
            case 1:
                if (typeof value !== "number" || !Number.isFinite(value)) return this.bad(at, "number", value);
                return;
            case 2:
                if (typeof value !== "boolean") return this.bad(at, "boolean", value);
                return;
            case 4:
            case 5:
            case 6:
            case 7:
                if (value instanceof Date ? Number.isNaN(value.getTime()) : !(typeof value === "number" || (typeof value === "string" && !Number.isNaN(Date.parse(value))))) {
                    return this.bad(at, "timestamp", value);
                }
                return;
            case 17:
            case 19:
                if (!(typeof value === "number" || typeof value === "bigint" || typeof value === "string")) return this.bad(at, "number", value);
                return;
            case 21:
                if (!(typeof value === "string" || ArrayBuffer.isView(value))) return this.bad(at, "blob", value);
                return;
            default:
                return; // 15 document, 42 streaming blob (a stream, a Blob, a buffer...): any value.
        }
    }

    private bad(at: string, expected: string, value: unknown): void {
        this.problems.push({ kind: "type", path: at, expected, value });
    }
}

/** Every problem of `input` against the model of `service`:`operation` ([] when valid or when unmodelled). */
export function validateShape(service: SimService, operation: string, input: unknown): ShapeProblem[] {
    const shape = inputShape(service, operation);
    if (!shape) return [];
    const checker = new Checker(enumTable(service));
    checker.structure(shape, input ?? {}, "");
    return checker.problems;
}

/** The validation error code a service answers with, for a missing member and for a bad value. */
const ERROR_CODES: Record<SimService, { missing: string; invalid: string }> = {
    ec2: { missing: "MissingParameter", invalid: "InvalidParameterValue" },
    // Query-protocol services answer ValidationError.
    iam: { missing: "ValidationError", invalid: "ValidationError" },
    sts: { missing: "ValidationError", invalid: "ValidationError" },
    autoscaling: { missing: "ValidationError", invalid: "ValidationError" },
    elbv2: { missing: "ValidationError", invalid: "ValidationError" },
    sns: { missing: "InvalidParameter", invalid: "InvalidParameter" },
    // JSON-protocol services answer ValidationException.
    dynamodb: { missing: "ValidationException", invalid: "ValidationException" },
    ssm: { missing: "ValidationException", invalid: "ValidationException" },
    kms: { missing: "ValidationException", invalid: "ValidationException" },
    ebs: { missing: "ValidationException", invalid: "ValidationException" },
    // S3 has no generic validation code: InvalidRequest for a request missing a part, InvalidArgument for a bad value.
    s3: { missing: "InvalidRequest", invalid: "InvalidArgument" },
};

function lowerFirst(path: string): string {
    return path.replace(/(^|\.)([A-Z])/g, (_m, dot: string, c: string) => dot + c.toLowerCase());
}

function show(value: unknown): string {
    if (typeof value === "string") return value;
    if (value instanceof Date) return value.toISOString();
    try {
        return typeof value === "object" ? JSON.stringify(value).slice(0, 80) : String(value);
    } catch {
        return String(value);
    }
}

/**
 * The error AWS answers for an invalid request (HTTP 400), or undefined when `input` is valid for the model. EC2's
 * messages follow its query API (`The request must contain the parameter X`, `Value (v) for parameter X is
 * invalid`); the others the "N validation errors detected: Value ... at 'member' failed to satisfy constraint"
 * form.
 */
export function shapeError(service: SimService, operation: string, input: unknown): Error | undefined {
    const problems = validateShape(service, operation, input);
    if (problems.length === 0) return undefined;
    const codes = ERROR_CODES[service];
    const first = problems[0] as ShapeProblem;
    if (service === "ec2") {
        if (first.kind === "missing") return awsError(service, codes.missing, `The request must contain the parameter ${first.path}`, 400);
        const why = first.kind === "enum" ? `Valid values: ${first.expected}` : `Expected a ${first.expected}, got a ${describe(first.value)}`;
        return awsError(service, codes.invalid, `Value (${show(first.value)}) for parameter ${first.path} is invalid. ${why}`, 400);
    }
    const code = problems.some((p) => p.kind === "missing") && problems.every((p) => p.kind === "missing") ? codes.missing : codes.invalid;
    const parts = problems.map((p) => {
        const member = service === "s3" ? p.path : lowerFirst(p.path);
        if (p.kind === "missing") return `Value null at '${member}' failed to satisfy constraint: Member must not be null`;
        if (p.kind === "enum") return `Value '${show(p.value)}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${p.expected}]`;
        return `Value at '${member}' failed to satisfy constraint: Member must be a ${p.expected} (got a ${describe(p.value)})`;
    });
    const n = problems.length;
    return awsError(service, code, `${n} validation error${n === 1 ? "" : "s"} detected: ${parts.join("; ")}`, 400);
}

let warmed = false;

/**
 * Load every model the simulator validates against (the clients' schemas, the enum tables read from their
 * declaration files: some 100 ms for EC2) before a drill's clock starts, so the first call of each service takes
 * no longer than the rest.
 */
export function warmShapes(): void {
    if (warmed) return;
    warmed = true;
    for (const service of Object.keys(MODEL_PACKAGE) as SimService[]) enumTable(service);
}
