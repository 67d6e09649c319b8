/**
 * The e2e run's test stack through the Pulumi Automation API: this project directory as a local program, the stack
 * selected or created by name (its `Pulumi.<stack>.yaml` is written beside the others; .gitignore leaves e2e ones
 * out), its configuration set, `pulumi up` run with its output passed on. Needs the Pulumi CLI on PATH and a
 * logged-in backend, as `pulumi up` by hand does.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import type { E2eStack } from "./run";

export async function openPulumiStack(stackName: string, workDir: string, log: (line: string) => void): Promise<E2eStack> {
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir });
    return {
        up: async (config) => {
            await stack.setAllConfig(config);
            const result = await stack.up({ onOutput: (text) => log(text.trimEnd()) });
            return Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value as unknown]));
        },
    };
}
