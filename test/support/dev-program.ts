/**
 * The real entry point (`index.ts`) run once per test process with Pulumi.dev.yaml, exactly as `pulumi up` runs it
 * (the exported async function called, its result the stack outputs), under the process's mocks. Tests share this
 * one run and read only its own registrations: other tests of the same worker process register resources too
 * (the multi-account program among them), and their names may also start with `dfir-`.
 */
import * as pulumi from "@pulumi/pulumi";
import { recorded, settle, type RecordedResource } from "./pulumi-mocks";
import { stackConfig } from "./stack-config";

export interface DevProgram {
    /** The program's stack outputs. */
    outputs: Record<string, pulumi.Output<unknown> | undefined>;
    /** What this run registered, in order. */
    resources: RecordedResource[];
}

let run: Promise<DevProgram> | undefined;

export function devProgram(): Promise<DevProgram> {
    run ??= (async () => {
        pulumi.runtime.setAllConfig(stackConfig("dev"));
        await settle();
        const start = recorded.length;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const entry: () => Promise<DevProgram["outputs"]> = require("../../index");
        const outputs = await entry();
        await settle();
        return { outputs, resources: recorded.slice(start) };
    })();
    return run;
}
