/**
 * An organization of any size, planned offline: A member accounts, each in four hub regions with `vpcs: all` (the
 * mocks answer two VPCs per account and region), hub 111111111111 as GuardDuty's delegated administrator, split
 * into stacks of at most core/organization.ts ACCOUNTS_PER_STACK accounts (each its own `dfir:shard`, owning its accounts' roles with
 * `dfir:memberAccess: true`, `dfir:organization.configure` false in all but the first: docs/many-accounts.md, "by
 * group of accounts"), written as `Pulumi.<name>.yaml` files in a temporary project, checked together
 * (`checkOrganization`) and previewed through the stacks driver's `--mock` runner (scripts/lib/stacks: the real program under
 * the project's mocks, one process per stack) with one stack per CPU at a time. Per size: wall time, the stacks'
 * CPU seconds summed, the largest peak RSS of one stack, and per-account figures; growth is linear when the CPU
 * time per account at the largest size is within LINEAR_TOLERANCE of that at the smallest (wall time is reported
 * too, but on a shared machine it moves with the load of everything else running).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ACCOUNTS_PER_STACK } from "../../../core/organization";
import { driveStacks } from "../stacks/driver";
import { mockRunner } from "../stacks/mock";
import { loadProject, loadStacks, organizationProblems } from "../stacks/project";
import type { ProgressDisplay } from "../stacks/types";

export const ORG_HUB = "111111111111";
export const ORG_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"] as const;
/** Growth counts as linear when the per-account CPU time at the largest size is within 25% of that at the smallest. */
export const LINEAR_TOLERANCE = 0.25;

const REPO = path.resolve(__dirname, "..", "..", "..");

/**
 * The stacks of an organization of `accounts` member accounts (ids 200000000000 + i), at most `perStack` each, in
 * order: stack name -> its `config:` map as written in the stack file.
 */
export function organizationStacks(accounts: number, perStack: number): Map<string, Record<string, unknown>> {
    const stacks = new Map<string, Record<string, unknown>>();
    const count = Math.ceil(accounts / perStack);
    const width = String(Math.max(count - 1, 0)).length;
    for (let s = 0; s < count; s++) {
        const members = [];
        for (let i = s * perStack; i < Math.min(accounts, (s + 1) * perStack); i++) {
            const accountId = String(200000000000 + i);
            members.push({ accountId, deployRoleArn: `arn:aws:iam::${accountId}:role/dfir-deploy`, regions: Object.fromEntries(ORG_REGIONS.map((r) => [r, { vpcs: "all" }])) });
        }
        const config: Record<string, unknown> = {
            "aws:region": ORG_REGIONS[0],
            "pulumi:disable-default-providers": ["aws"],
            "dfir:hub": { accountId: ORG_HUB, regions: [...ORG_REGIONS], deployRoleArn: `arn:aws:iam::${ORG_HUB}:role/dfir-deploy` },
            "dfir:members": members,
            "dfir:organization": { id: "o-abcdefghij", delegatedAdmin: true },
        };
        config["dfir:shard"] = `s${s}`;
        config["dfir:memberAccess"] = true;
        // One GuardDuty organization configuration per hub region: the first stack writes it.
        if (s > 0) (config["dfir:organization"] as Record<string, unknown>).configure = false;
        stacks.set(`org-${String(s).padStart(width, "0")}`, config);
    }
    return stacks;
}

export interface OrganizationRow {
    accounts: number;
    memberRegions: number;
    stacks: number;
    resources: number;
    /** From the first stack started to the last finished. */
    wallSeconds: number;
    /** User + system CPU seconds of every stack's process, summed. */
    cpuSeconds: number;
    /** The largest peak RSS of one stack's process. */
    maxRssMiB: number;
    wallSecondsPerAccount: number;
    cpuSecondsPerAccount: number;
    resourcesPerAccount: number;
}

export interface OrganizationBench {
    regions: string[];
    accountsPerStack: number;
    concurrency: number;
    rows: OrganizationRow[];
    /** Per-account time at the largest size / at the smallest (wall and CPU); null with one size. */
    growth: { wall: number; cpu: number } | null;
    /** The CPU ratio within 1 + LINEAR_TOLERANCE (the wall ratio depends on the machine's other load); null with one size. */
    linear: boolean | null;
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const r4 = (n: number) => Math.round(n * 10000) / 10000;

/** One organization of `accounts` accounts previewed under mocks; throws when a stack fails. */
export async function planOrganization(accounts: number, perStack: number, concurrency: number): Promise<OrganizationRow> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dfir-org-bench-"));
    try {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml.dump({ name: "aws-dfir", runtime: "nodejs", main: REPO }));
        for (const [name, config] of organizationStacks(accounts, perStack)) {
            fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), yaml.dump({ config }, { lineWidth: -1 }));
        }
        const project = loadProject(dir);
        const stacks = loadStacks(dir, project, [], true);
        const problems = organizationProblems(stacks, project.name);
        if (problems.length > 0) throw new Error(`organization of ${accounts} accounts: ${problems[0]}`);
        const quiet: ProgressDisplay = { event: () => {}, done: () => {} };
        const summary = await driveStacks({ command: "preview", stacks, concurrency, runner: mockRunner(dir, project), display: quiet, mock: true });
        const failed = summary.stacks.find((s) => s.result === "failed");
        if (failed) throw new Error(`organization of ${accounts} accounts: stack ${failed.stack} failed: ${failed.error}`);
        const sum = (f: (s: (typeof summary.stacks)[number]) => number | undefined) => summary.stacks.reduce((a, s) => a + (f(s) ?? 0), 0);
        const resources = sum((s) => s.resources);
        const cpuSeconds = sum((s) => s.cpuSeconds);
        return {
            accounts,
            memberRegions: accounts * ORG_REGIONS.length,
            stacks: stacks.length,
            resources,
            wallSeconds: r2(summary.seconds),
            cpuSeconds: r2(cpuSeconds),
            maxRssMiB: Math.max(...summary.stacks.map((s) => s.maxRssMiB ?? 0)),
            wallSecondsPerAccount: r4(summary.seconds / accounts),
            cpuSecondsPerAccount: r4(cpuSeconds / accounts),
            resourcesPerAccount: r2(resources / accounts),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Growth between the smallest and the largest size (per-account time ratios), and whether it is linear. Pure. */
export function growthOf(rows: readonly OrganizationRow[]): Pick<OrganizationBench, "growth" | "linear"> {
    if (rows.length < 2) return { growth: null, linear: null };
    const first = rows[0];
    const last = rows[rows.length - 1];
    const growth = { wall: r2(last.wallSecondsPerAccount / first.wallSecondsPerAccount), cpu: r2(last.cpuSecondsPerAccount / first.cpuSecondsPerAccount) };
    return { growth, linear: growth.cpu <= 1 + LINEAR_TOLERANCE };
}

export async function benchOrganization(sizes: number[], progress: (line: string) => void = () => {}, concurrency = os.cpus().length): Promise<OrganizationBench> {
    const rows: OrganizationRow[] = [];
    for (const accounts of sizes) {
        progress(`organization: ${accounts} accounts x ${ORG_REGIONS.length} regions, ${Math.ceil(accounts / ACCOUNTS_PER_STACK)} stacks, ${concurrency} at a time`);
        rows.push(await planOrganization(accounts, ACCOUNTS_PER_STACK, concurrency));
    }
    return { regions: [...ORG_REGIONS], accountsPerStack: ACCOUNTS_PER_STACK, concurrency, rows, ...growthOf(rows) };
}

if (require.main === module) {
    // `node -r ./scripts/register-ts.js scripts/lib/bench/organization.ts [A,B,...]`: this section alone, as JSON.
    const sizes = (process.argv[2] ?? "40").split(",").map(Number);
    benchOrganization(sizes, (line) => process.stderr.write(`${line}\n`)).then(
        (r) => process.stdout.write(`${JSON.stringify(r, null, 1)}\n`),
        (error: unknown) => {
            process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
            process.exitCode = 1;
        },
    );
}
