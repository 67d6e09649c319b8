/**
 * One stack's offline preview, in a process of its own (forked by scripts/lib/stacks/mock.ts with an IPC channel):
 * receives a MockJob, runs the program under the project's mocks with the stack's config exactly as
 * `npm run stack:resources` does (a resource over an AWS size quota, or a role's inline policies over theirs together,
 * fails the stack), and sends back one MockMessage ("done" or "failed"), with "progress" messages
 * (resources registered so far) while it runs. Only messages carry results: anything the SDK logs goes to stderr.
 */
import type { MockJob, MockMessage } from "./mock";

const usage = () => {
    const u = process.resourceUsage();
    return { maxRssMiB: Math.round(u.maxRSS / 1024), cpuSeconds: Math.round((u.userCPUTime + u.systemCPUTime) / 1e4) / 100 };
};

let sent = false;

/** The one result; the process ends once it is handed over. */
function send(message: MockMessage): void {
    if (sent) return;
    sent = true;
    process.send?.(message, () => process.exit(0));
}

function fail(error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "unknown error";
    send({ kind: "failed", error: line, ...usage() });
}

async function run(job: MockJob): Promise<void> {
    const started = process.hrtime.bigint();
    const { installMocks } = await import("../mock-program");
    const pulumi = await import("@pulumi/pulumi");
    const program = installMocks({ project: job.project, stack: job.stack, region: job.region, preview: true });
    pulumi.runtime.setAllConfig(job.config);
    let reported = 0;
    const ticker = setInterval(() => {
        if (program.registrations.length !== reported) {
            reported = program.registrations.length;
            process.send?.({ kind: "progress", resources: reported } satisfies MockMessage);
        }
    }, 250);
    ticker.unref();
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            const exported = require(job.main);
            const entry = exported && Object.getOwnPropertyDescriptor(exported, "default") !== undefined ? exported.default : exported;
            return entry instanceof Function ? entry() : entry;
        });
        await program.settle();
    } finally {
        clearInterval(ticker);
    }
    const failed = program.registrations.filter((r) => r.error !== undefined || r.urn === undefined);
    if (failed.length > 0) {
        throw new Error(`${failed.length} registration(s) failed, first ${failed[0].type} ${failed[0].name}: ${failed[0].error ?? "no answer"}`);
    }
    // Quotas counted across resources (a role's inline policies together), as `npm run stack:resources` fails on them.
    const over = program.quotaProblems();
    if (over.length > 0) throw new Error(`${over.length} AWS size quota problem(s), first: ${over[0].message}`);
    const seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e7) / 100;
    send({ kind: "done", resources: program.registrations.length, seconds, ...usage() });
}

if (require.main === module) {
    const toStderr = (...args: unknown[]) => console.error(...args);
    console.log = toStderr;
    console.info = toStderr;
    console.debug = toStderr;
    process.on("unhandledRejection", fail);
    process.on("uncaughtException", fail);
    process.once("message", (job: MockJob) => {
        run(job).catch(fail);
    });
}
