/**
 * Pulumi mocks for the whole test process (mocks are global: set once, here). Every registered resource is
 * recorded with its resolved inputs and its parent, so tests assert on what the program asks AWS for.
 * Resource types and data-source calls the project does not use throw `Mock not implemented: <token>`:
 * a new dependency of the program must be mocked on purpose, never answered with a silent `{}`.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, subnetsOf, type RecordedResource } from "../../scripts/lib/mock-program";

export { ACCOUNT, ROUTE_TABLES, S3_PREFIX_LIST, VPC, type RecordedResource } from "../../scripts/lib/mock-program";
export const REGION = "us-east-1";
/** Two subnets in one AZ, one in another: endpoints must get exactly one per AZ. */
export const SUBNETS = subnetsOf(REGION);

// The program keeps no stack frames by default (index.ts, limitStackTraces), and neither do the test processes that
// run it: at V8's usual 10 frames, Pulumi's stack trace per promise and per resource (source-mapped by ts-node) made
// every mocked program run five times slower. Failing assertions still say what failed (node's assert quotes the
// expression; ours carry messages); run with DFIR_STACK_TRACE_LIMIT=10 to also see where.
process.env.DFIR_STACK_TRACE_LIMIT ??= "0";
Error.stackTraceLimit = Number(process.env.DFIR_STACK_TRACE_LIMIT) || 0;

// The tables and the request capture live in scripts/lib/mock-program.ts, shared with `npm run stack:resources`.
const program = installMocks({ project: "aws-dfir", stack: "test", region: REGION, preview: true });

export const recorded: RecordedResource[] = program.recorded;

/** Wait until every registration the program started has reached the mocks. */
export async function settle(): Promise<void> {
    await program.settle();
}

/** The resolved value of an output. */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T> {
    return new Promise((resolve) => pulumi.output(o as pulumi.Input<T>).apply((v) => { resolve(v as T); return v; }));
}

/** Resources recorded so far whose name starts with a prefix (each test uses its own component name). */
export function resourcesOf(prefix: string): RecordedResource[] {
    return recorded.filter((r) => r.name === prefix || r.name.startsWith(`${prefix}-`));
}

/** Exactly one recorded resource of a type and name; fails loudly otherwise. */
export function one(type: string, name: string): RecordedResource {
    const hits = recorded.filter((r) => r.type === type && r.name === name);
    if (hits.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${hits.length}`);
    return hits[0];
}

/**
 * The variables a recorded Lambda function's code carries in its settings file (core/workflow.ts SETTINGS_FILE:
 * Contain's group maps). The mocks get the archive object itself, whose assets and texts are promises.
 */
export async function settingsFileOf(fn: RecordedResource): Promise<Record<string, string>> {
    const assets = (await fn.inputs.code?.assets) as Record<string, { text: Promise<string> }> | undefined;
    const file = assets?.["settings.json"];
    if (!file) throw new Error(`${fn.name} has no settings.json in its code`);
    return JSON.parse(await file.text) as Record<string, string>;
}
