/**
 * Where an analyst command runs: a real account (the standard AWS credential chain, `--region`, the stack's case
 * table) or the drill's simulated account kept with `drill --state DIR` (`--simulated DIR`). Either way every AWS
 * client comes from `functions/lib/aws.ts`, the factory the handlers use, so the commands run the same code online
 * and offline: the simulator attaches itself to each client that factory builds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SimulatedAccount } from "../drill/sim";
import { regionProblem } from "../core/regions";
import { partitionOf } from "../core/containmentPolicies";
import { analystAccessRoleArn } from "../core/memberPolicies";
import type { Target } from "../core/workflow";

/** Bad input: one line on stderr, exit 2, nothing changed. */
export class UsageError extends Error {
    override name = "UsageError";
}

export interface ContextOptions {
    /** `--simulated DIR`: the drill's kept simulated account. */
    simulated?: string;
    /** `--region`: the hub region (real account); default AWS_REGION / AWS_DEFAULT_REGION. */
    region?: string;
    /** `--table`: the case table (the stack's `casesTableName` output); default DFIR_CASES_TABLE. */
    table?: string;
}

export interface AnalystContext {
    readonly region: string;
    readonly casesTable: string;
    /** The simulated account, when `--simulated`. */
    readonly sim?: SimulatedAccount;
    /** Persist changes (simulated account only; a real account needs nothing). */
    save(): void;
    /** Detach from the simulated account. */
    close(): void;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** Open the context named by the options; every problem is a one-line UsageError before any AWS call. */
export function openContext(options: ContextOptions, env: NodeJS.ProcessEnv = process.env): AnalystContext {
    if (options.simulated !== undefined) {
        if (options.region !== undefined || options.table !== undefined) {
            throw new UsageError("--simulated takes the region and case table from the simulated account: leave out --region and --table");
        }
        const dir = options.simulated;
        if (!fs.existsSync(path.join(dir, "state.json"))) {
            throw new UsageError(`--simulated ${dir}: no simulated account there (run \`npm run drill -- --finding FILE --state ${dir}\` first)`);
        }
        let sim: SimulatedAccount;
        try {
            sim = SimulatedAccount.loadState(dir);
        } catch (error) {
            throw new UsageError(`--simulated ${dir}: cannot load ${path.join(dir, "state.json")}: ${(error as Error).message.split("\n")[0]}`);
        }
        sim.install();
        return {
            region: sim.deployment.region,
            casesTable: sim.deployment.casesTable,
            sim,
            save: () => sim.saveState(dir),
            close: () => sim.uninstall(),
        };
    }
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new UsageError("no region: give --region (the hub region of the case) or set AWS_REGION");
    const problem = regionProblem(region);
    if (problem) throw new UsageError(`--region ${JSON.stringify(region)} ${problem}`);
    const table = options.table ?? env.DFIR_CASES_TABLE;
    if (!table) throw new UsageError("no case table: give --table (the stack output casesTableName) or set DFIR_CASES_TABLE");
    if (!TABLE_NAME.test(table)) throw new UsageError(`--table ${JSON.stringify(table)} is not a DynamoDB table name`);
    return { region, casesTable: table, save: () => undefined, close: () => undefined };
}

/**
 * Where an analyst's command reads and acts in the instance's account: the case's region and, for a member's case
 * (the case recorded the responder role the functions acted through), the member's analyst access role
 * (core/memberPolicies.ts `memberAnalystAccessPolicy`: what plan, verify and release need, never the responder's
 * powers). In the stack's own account, the analyst's own credentials. Without a case (`dfir plan`),
 * `callerAccountId` (the analyst's own account) tells a member's instance apart.
 */
export function instanceAccount(target: Partial<Target>, fallbackRegion: string, callerAccountId?: string): { region: string; roleArn?: string } {
    const region = target.region ?? fallbackRegion;
    // No case yet (plan): another account than the analyst's own is a member's.
    const member = target.roleArn !== undefined || (callerAccountId !== undefined && target.accountId !== undefined && target.accountId !== callerAccountId);
    if (!member) return { region };
    if (!target.roleArn) return { region, roleArn: analystAccessRoleArn(partitionOf(region), target.accountId as string) };
    const accountId = target.accountId ?? target.roleArn.split(":")[4] ?? "";
    return { region, roleArn: analystAccessRoleArn(partitionOf(region), accountId) };
}
