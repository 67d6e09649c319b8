/**
 * `dfir respond INSTANCE [--evidence-only] [--reason TEXT] [--account ID]`: start the response by hand. The request
 * is the execution input `core/triggers.ts` `manualEvent` builds (trigger `manual`, the caller's ARN from STS
 * GetCallerIdentity as `requestedBy`, `--reason`), checked by the same `triage()` the state machine's Triage step
 * runs, then:
 * - a real account: StartExecution of the deployed state machine (`--state-machine ARN`, default
 *   DFIR_STATE_MACHINE_ARN: the stack output `stateMachineArn`), execution name `manual-<request id>`;
 * - `--simulated DIR`: the drill's execution of the same definition against the kept simulated account, which
 *   then holds the case (the command waits for it to end sealed).
 * `--evidence-only` takes evidence and never contains (the case's `skipContainment`, as `dfir:skip=true` does).
 */
import { randomUUID } from "node:crypto";
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { StartExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { ACCOUNT_ID } from "../core/ids";
import { INSTANCE_ID_PATTERN, triage, type TriageDecision } from "../core/triage";
import { manualEvent } from "../core/triggers";
import { client } from "../functions/lib/aws";
import { now } from "../functions/lib/clock";
import { runDrill } from "../drill/run";
import { UsageError, type AnalystContext } from "./context";

export interface RespondOptions {
    instanceId: string;
    evidenceOnly: boolean;
    reason?: string;
    /** The instance's account; default the caller's (a simulated account: the kept instance's). */
    account?: string;
    /** The deployed state machine (real account only). */
    stateMachineArn?: string;
}

export interface RespondResult {
    instanceId: string;
    accountId: string;
    region: string;
    requestedBy: string;
    reason?: string;
    evidenceOnly: boolean;
    /** The triage decision of the request (what the state machine's Triage step decides). */
    verdict: TriageDecision;
    /** Real account: the started execution. */
    executionArn?: string;
    /** Simulated: how the response ended (the drill's status: SUCCEEDED, PARTIAL, FAILED...) and its case. */
    status?: string;
    statusReason?: string;
    caseId?: string;
}

export async function respond(ctx: AnalystContext, opts: RespondOptions, env: NodeJS.ProcessEnv = process.env): Promise<RespondResult> {
    if (!INSTANCE_ID_PATTERN.test(opts.instanceId)) throw new UsageError(`${JSON.stringify(opts.instanceId)} is not an EC2 instance id (i- and 8 or 17 hex digits)`);
    if (opts.account !== undefined && !ACCOUNT_ID.test(opts.account)) throw new UsageError(`--account ${JSON.stringify(opts.account)} is not a 12-digit account id`);
    if (opts.reason !== undefined && opts.reason.trim() === "") throw new UsageError("--reason needs a text");
    const stateMachineArn = opts.stateMachineArn ?? env.DFIR_STATE_MACHINE_ARN;
    if (ctx.sim && opts.stateMachineArn !== undefined) throw new UsageError("--simulated runs the drill's state machine: leave out --state-machine");
    if (!ctx.sim && !stateMachineArn) throw new UsageError("no state machine: give --state-machine (the stack output stateMachineArn) or set DFIR_STATE_MACHINE_ARN");

    const caller = await (client("sts", { region: ctx.region }) as STSClient).send(new GetCallerIdentityCommand({}));
    const requestedBy = caller.Arn ?? "unknown";
    const accountId = opts.account ?? (ctx.sim ? ctx.sim.instanceAccountId : caller.Account ?? "");
    if (ctx.sim && accountId !== ctx.sim.homeAccountId && accountId !== ctx.sim.instanceAccountId) {
        throw new UsageError(`--account ${accountId}: the simulated account holds instances of ${ctx.sim.homeAccountId} and ${ctx.sim.instanceAccountId} only`);
    }
    // The instance must exist where the request says (own account: checked here; another account: OpenCase reads
    // it through the responder role and the case records a failure to find it).
    if (accountId === caller.Account) {
        const described = await (client("ec2", { region: ctx.region }) as EC2Client)
            .send(new DescribeInstancesCommand({ InstanceIds: [opts.instanceId] }))
            .catch((error: Error) => {
                if (/^InvalidInstanceID\./.test(error.name)) return { Reservations: [] };
                throw error;
            });
        const found = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []).some((i) => i.InstanceId === opts.instanceId);
        if (!found) throw new UsageError(`instance ${opts.instanceId} not found in ${accountId} ${ctx.region}`);
    }

    const requestId = randomUUID();
    const event = manualEvent({
        requestId,
        accountId,
        region: ctx.region,
        instanceId: opts.instanceId,
        requestedBy,
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        evidenceOnly: opts.evidenceOnly,
        time: now().toISOString(),
    });
    const verdict = triage(event);
    if (verdict.decision !== "respond") throw new UsageError(`the request would be ignored: ${verdict.reason}`);
    const base: RespondResult = {
        instanceId: opts.instanceId,
        accountId,
        region: ctx.region,
        requestedBy,
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
        evidenceOnly: opts.evidenceOnly,
        verdict,
    };

    if (ctx.sim) {
        // The drill installs the simulated account itself: hand it over, and take it back for the save and close.
        const sim = ctx.sim;
        sim.uninstall();
        try {
            const report = await runDrill({ finding: event, sim });
            return { ...base, status: report.status, statusReason: report.reason, ...(report.caseId ? { caseId: report.caseId } : {}) };
        } finally {
            sim.install();
        }
    }
    // Step Functions is the CLI's own client (no function calls it, so functions/lib/aws.ts has no accessor for it).
    const sfn = new SFNClient({ region: ctx.region });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: `manual-${requestId}`, input: JSON.stringify(event) }));
    return { ...base, ...(started.executionArn ? { executionArn: started.executionArn } : {}) };
}
