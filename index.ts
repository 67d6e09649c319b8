/**
 * aws-dfir: `pulumi up` entry point. Reads the stack's `dfir:*` config (unknown keys, a missing VPC id, bad
 * accounts or regions stop the preview with a one-line message naming the key) and deploys either one account
 * and region (`dfir:vpcId`) or a forensics hub and its member accounts (`dfir:hub`, `dfir:members`), where every
 * resource goes through an explicit provider and the default provider is disabled.
 */
import * as pulumi from "@pulumi/pulumi";
import { dfirKeys, parseDfirConfig } from "./core/config";
import { checkDefaultProvidersDisabled } from "./core/plan";
import { deployDfir } from "./components/dfirStack";
import { deployMultiAccount } from "./components/multiAccountStack";

/**
 * Stack frames per captured stack trace while the program runs: 0 unless DFIR_STACK_TRACE_LIMIT says otherwise.
 * Pulumi captures a stack trace for every promise and resource it creates (leak reports, source positions) and
 * ts-node source-maps every frame; at thousands of resources that is three quarters of a preview (docs/many-accounts.md: Scale).
 * This program's own errors are one-line messages that name the config key; set DFIR_STACK_TRACE_LIMIT=50 to debug
 * a crash with full stacks.
 */
function limitStackTraces(): void {
    const raw = process.env.DFIR_STACK_TRACE_LIMIT;
    const limit = raw === undefined || raw === "" ? 0 : Number(raw);
    if (!Number.isInteger(limit) || limit < 0 || limit > 1000) throw new Error(`DFIR_STACK_TRACE_LIMIT must be a whole number from 0 to 1000, got ${JSON.stringify(raw)}`);
    Error.stackTraceLimit = limit;
}

export = async () => {
    limitStackTraces();
    const all = pulumi.runtime.allConfig();
    const config = parseDfirConfig(dfirKeys(all));
    checkDefaultProvidersDisabled(all);
    return config.multiAccount ? deployMultiAccount(config) : deployDfir(config);
};
