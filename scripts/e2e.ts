/**
 * `npm run e2e -- --region REGION [--vpc VPC_ID] [--stack NAME] [--avml FILE] [--keep] [--yes]`: the real-AWS
 * end-to-end run (docs/e2e.md). Without --yes it prints what it would create and what that costs, and creates
 * nothing. With it: deploys the test stack, launches a target, starts a response with `dfir respond`, waits for the
 * sealed case, runs `dfir verify` and `dfir release --yes`, deletes the target and its role, and prints a JSON report
 * on stdout (progress on stderr). Exit 0 when the case sealed SUCCEEDED and verified, 1 when a step failed, 2 on bad
 * input (one line, nothing created).
 */
import * as path from "node:path";
import { e2ePlanText, E2eUsageError, parseE2eArgs } from "./lib/e2e/options";

async function run(argv: string[]): Promise<number> {
    let options;
    try {
        options = parseE2eArgs(argv, process.env);
    } catch (error) {
        if (error instanceof E2eUsageError) {
            process.stderr.write(`e2e: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
    process.stderr.write(`${e2ePlanText(options)}\n`);
    if (!options.yes) return 0;
    // Loaded only for a run: the plan needs none of them.
    const { main: dfir } = await import("../cli/index");
    const { client } = await import("../functions/lib/aws");
    const { openPulumiStack } = await import("./lib/e2e/pulumiStack");
    const { runE2e } = await import("./lib/e2e/run");
    const where = { region: options.region };
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const report = await runE2e(options, {
        openStack: (name) => openPulumiStack(name, path.join(__dirname, ".."), log),
        ec2: client("ec2", where),
        ssm: client("ssm", where),
        iam: client("iam", where),
        sts: client("sts", where),
        dfir: async (args) => {
            let stdout = "";
            let stderr = "";
            const code = await dfir(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), progress: false });
            return { code, stdout, stderr };
        },
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => new Date(),
        log,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    for (const line of report.left) log(`left in the account: ${line}`);
    return report.ok ? 0 : 1;
}

run(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
        process.stderr.write(`e2e: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}\n`);
        process.exitCode = 3;
    },
);
