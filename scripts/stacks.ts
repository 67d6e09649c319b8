/**
 * `npm run -s stacks -- check|preview|up [--stack NAME ...] [--concurrency N] [--mock] [--json] [--yes]`
 *
 * Previews or updates several stacks of this project at once (an organization split into stacks: docs/many-accounts.md).
 * - Stacks: every `Pulumi.<name>.yaml` of the project (the current directory), or the `--stack` ones.
 * - Before anything runs, each stack's config is parsed with the program's own `parseDfirConfig` (a problem: one
 *   line naming the stack, exit 2), and the stacks are checked together (core/organization.ts `checkOrganization`:
 *   each problem one line, exit 2, nothing run).
 * - `check`: only that; "N stack(s) checked ...: no problems across them" on stdout and exit 0, or the problems
 *   and exit 2 (with `--json`, {command, stacks, problems} on stdout either way).
 * - Real mode: the Pulumi Automation API (needs the Pulumi CLI and a backend, as `pulumi preview` by hand).
 *   `up` runs only with `--yes` (without it: one line saying what would run, exit 2).
 * - `--mock`: offline, each stack's program run under the project's mocks in a process of its own (a preview).
 * - At most `--concurrency` stacks at once (default 2, 1 to 32); a stack that fails does not stop the others.
 * - Progress on stderr (a multibar on a TTY, else one line per stack event); at the end a summary table on stdout
 *   (or with `--json` one JSON object). Exit 0 when every stack succeeded, 1 when any failed, 2 on bad input.
 */
import { parseStacksArgs } from "./lib/stacks/options";
import { loadProject, loadStacks, organizationProblems, StacksInputError } from "./lib/stacks/project";
import { driveStacks } from "./lib/stacks/driver";
import { exitCodeOf, summaryTable } from "./lib/stacks/summary";
import { lineDisplay, multibarDisplay } from "./lib/stacks/progress";
import type { ProgressDisplay, StackRunner } from "./lib/stacks/types";

export interface StacksIo {
    /** The project directory. */
    dir: string;
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** The display for these stacks; default: a multibar when stderr is a TTY, else lines on stderr. */
    display?: (stacks: string[]) => ProgressDisplay;
    /** The runner; default: the Automation API, or the mocks with --mock. */
    runner?: StackRunner;
}

export async function stacksMain(argv: readonly string[], io: StacksIo): Promise<number> {
    const options = parseStacksArgs(argv);
    if (typeof options === "string") {
        io.stderr(`${options}\n`);
        return 2;
    }
    let stacks;
    let project;
    try {
        project = loadProject(io.dir);
        stacks = loadStacks(io.dir, project, options.stacks, options.mock);
    } catch (error) {
        if (!(error instanceof StacksInputError)) throw error;
        io.stderr(`stacks: ${error.message}\n`);
        return 2;
    }
    const names = stacks.map((s) => s.name);
    const problems = organizationProblems(stacks, project.name);
    if (options.command === "check" && options.json) io.stdout(`${JSON.stringify({ command: "check", stacks: names, problems })}\n`);
    if (problems.length > 0) {
        io.stderr(problems.map((p) => `stacks: ${p}\n`).join(""));
        return 2;
    }
    if (options.command === "check") {
        if (!options.json) io.stdout(`${names.length} stack(s) checked (${names.join(", ")}): no problems across them\n`);
        return 0;
    }
    if (options.command === "up" && !options.yes) {
        io.stderr(`stacks: up would update ${names.length} stack(s) (${names.join(", ")}), ${options.concurrency} at a time: add --yes to run it\n`);
        return 2;
    }
    let runner = io.runner;
    if (runner === undefined) {
        if (options.mock) {
            const { mockRunner } = await import("./lib/stacks/mock");
            runner = mockRunner(io.dir, project);
        } else {
            const { automationRunner } = await import("./lib/stacks/automation");
            runner = automationRunner(io.dir, await import("@pulumi/pulumi/automation"));
        }
    }
    const display = io.display ? io.display(names) : process.stderr.isTTY ? multibarDisplay(names, process.stderr) : lineDisplay(io.stderr);
    const summary = await driveStacks({ command: options.command, stacks, concurrency: options.concurrency, runner, display, mock: options.mock });
    io.stdout(options.json ? `${JSON.stringify(summary)}\n` : summaryTable(summary));
    return exitCodeOf(summary);
}

if (require.main === module) {
    stacksMain(process.argv.slice(2), {
        dir: process.cwd(),
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
    }).then(
        (code) => {
            process.exitCode = code;
        },
        (error: unknown) => {
            process.stderr.write(`stacks: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
