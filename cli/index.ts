/**
 * `dfir`: the analyst's command line. The stable form is `npm run -s dfir -- <command> ...` (and the package's
 * `dfir` bin). Every command works against a real account (the standard AWS credential chain, `--region`,
 * `--table`) or against the drill's kept simulated account (`--simulated DIR`, after `drill --state DIR`).
 *
 *   dfir plan --finding FILE [--bucket B]   dry run with read-only calls: what would be done, what would fail
 *   dfir cases [--open] [--json]            the case registry
 *   dfir verify CASE [--json] [--html FILE] [--trail-bucket B] [--deep] [--signing-key ARN]
 *                                           the chain-of-custody check (the manifest's signature included), who read
 *                                           the evidence (the access trail), and with --deep the snapshots' content
 *                                           digests; exit 1 on any mismatch
 *   dfir verify-manifest FILE --signature FILE --public-key FILE [--json]
 *                                           a downloaded manifest's signature, offline: no AWS call, no credentials
 *   dfir digest-image FILE [--size GIB] [--json]
 *                                           a dd image's content digest (core/diskDigest.ts), no AWS
 *   dfir release CASE [--yes] [--json]      undo containment from the recorded state (plan only without --yes)
 *   dfir respond INSTANCE [--evidence-only] [--reason TEXT] [--account ID] [--state-machine ARN] [--json]
 *                                           start the response by hand (the caller and the reason recorded in the case)
 *   dfir attach CASE [--workstation ID] [--yes] [--json]
 *                                           volumes from the case's snapshots on the forensic workstation, and the
 *                                           read-only mount, Sleuthkit and Volatility 3 commands (plan only without --yes)
 *
 * Exit codes: 0 done (verified), 1 verification found a mismatch, 2 bad input (one line on stderr, nothing on
 * stdout, nothing changed), 3 an AWS or unexpected error (one line on stderr).
 * Not built yet (docs/limitations.md): stage-tools.
 */
import * as fs from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { SingleBar } from "cli-progress";
import { attach } from "./attach";
import { listCases } from "./cases";
import { openContext, UsageError, type AnalystContext, type ContextOptions } from "./context";
import { InputError, parseEvents, readInput } from "../core/events";
import { asDelivered, onSimulatedAccount } from "../drill/run";
import { planResponse } from "./plan";
import { release } from "./release";
import { respond } from "./respond";
import { attachText, casesTable, planText, releaseText, verifyHtml, verifyText } from "./report";
import { verifyCase, type VerifyProgress } from "./verify";
import { verifyManifestFiles, verifyManifestText } from "./verifyManifest";

/** A KMS key ARN (the signing key is named by key id, never by alias). */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
import { DIGEST_DEFINITION, ImageDigester } from "../core/diskDigest";

export interface Io {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    /** Show progress bars (stderr is a terminal). */
    progress: boolean;
    /**
     * With `--simulated`: told every AWS call the command made on the simulated account, in order, once it is done
     * (or has failed). Tests hold a plan or a refusal to read-only calls with it (a run that changes nothing does
     * not save the account, so its state file cannot show a change).
     */
    simulatedCalls?: (calls: readonly { action: string; ok: boolean }[]) => void;
}

/** Open the context, run `body`, then report the simulated account's calls (`Io.simulatedCalls`) and close it. */
async function inContext(opts: ContextOptions, io: Io, body: (ctx: AnalystContext) => Promise<void>): Promise<void> {
    const ctx = openContext(opts);
    try {
        await body(ctx);
    } finally {
        if (ctx.sim) io.simulatedCalls?.(ctx.sim.calls.map((c) => ({ action: c.action, ok: c.ok })));
        ctx.close();
    }
}

const contextOptions = (cmd: Command) => cmd
    .addOption(new Option("--simulated <dir>", "the drill's kept simulated account (drill --state DIR)"))
    .addOption(new Option("--region <region>", "hub region of the cases (default AWS_REGION)"))
    .addOption(new Option("--table <name>", "the case table, the stack output casesTableName (default DFIR_CASES_TABLE)"));

/** A progress bar per streamed object: bytes, percentage, throughput. */
function progressBar(io: Io): { onProgress?: VerifyProgress; stop: () => void } {
    if (!io.progress) return { stop: () => undefined };
    let bar: SingleBar | undefined;
    let key = "";
    let started = 0;
    const onProgress: VerifyProgress = (e) => {
        if (e.key !== key) {
            bar?.stop();
            key = e.key;
            started = Date.now();
            bar = new SingleBar({ format: " {key} [{bar}] {percentage}% {value}/{total} bytes {rate} MB/s", stream: process.stderr, hideCursor: true });
            bar.start(e.total ?? e.bytes, 0, { key: e.key.split("/").pop(), rate: "0.0" });
        }
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar?.update(e.bytes, { rate: (e.bytes / seconds / 1e6).toFixed(1) });
        if (e.done) {
            bar?.stop();
            bar = undefined;
            key = "";
        }
    };
    return { onProgress, stop: () => bar?.stop() };
}

/** Run the command line; resolves to the exit code. Never calls process.exit (tests run it in-process). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
    let code = 0;
    const program = new Command("dfir")
        .description("aws-dfir analyst tools: cases and chain-of-custody verification")
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: () => undefined })
        .showSuggestionAfterError(true);

    contextOptions(program.command("plan").description("dry run: what the response to a finding would do and what would fail (read-only calls)"))
        .requiredOption("--finding <file>", "a GuardDuty finding (EventBridge event or bare finding JSON)")
        .option("--bucket <name>", "the evidence bucket, to look for the staged avml (default DFIR_EVIDENCE_BUCKET)")
        .option("--json", "one JSON result")
        .action(async (opts: ContextOptions & { finding: string; bucket?: string; json?: boolean }) => {
            let events: unknown[];
            try {
                events = parseEvents(readInput((f) => fs.readFileSync(f, "utf8"), opts.finding), opts.finding);
            } catch (error) {
                if (error instanceof InputError) throw new UsageError(error.message.split("\n")[0]);
                throw error;
            }
            if (events.length !== 1) throw new UsageError(`${opts.finding}: holds ${events.length} events; plan takes exactly one`);
            if (opts.simulated !== undefined && opts.bucket !== undefined) throw new UsageError("--simulated takes the evidence bucket from the simulated account: leave out --bucket");
            await inContext(opts, io, async (ctx) => {
                // The drill's account stands in for the published findings' redacted account ids: say the same here.
                const event = ctx.sim ? onSimulatedAccount(asDelivered(events[0]), ctx.sim) : events[0];
                const bucket = ctx.sim ? ctx.sim.deployment.evidenceBucket : opts.bucket ?? process.env.DFIR_EVIDENCE_BUCKET;
                const result = await planResponse(ctx, event, { ...(bucket ? { bucket } : {}) });
                io.stdout(opts.json ? `${JSON.stringify(result)}\n` : planText(result));
            });
        });

    contextOptions(program.command("cases").description("list the cases: status, instance, account/region, times, what was sealed"))
        .option("--open", "only cases not sealed yet")
        .option("--json", "one JSON array")
        .action(async (opts: ContextOptions & { open?: boolean; json?: boolean }) => {
            await inContext(opts, io, async (ctx) => {
                const cases = await listCases(ctx, { open: opts.open === true });
                io.stdout(opts.json ? `${JSON.stringify(cases)}\n` : casesTable(cases));
            });
        });

    contextOptions(program.command("verify").description("re-read and re-hash every evidence object of a case; check locks and snapshots"))
        .argument("<case>", "the case id (dfir cases lists them)")
        .option("--json", "one JSON report")
        .option("--html <file>", "also write a self-contained HTML report to FILE")
        .option("--trail-bucket <name>", "the evidence access trail's bucket, the stack output accessTrailBucket (default DFIR_TRAIL_BUCKET)")
        .option("--deep", "also recompute each snapshot's content digest through the EBS direct APIs and compare it with the case's digest record")
        .option("--signing-key <arn>", "the deployment's manifest-signing key, the stack output manifestSigningKeyArns (default DFIR_SIGNING_KEY): a signature by any other key is a problem")
        .action(async (caseId: string, opts: ContextOptions & { json?: boolean; html?: string; trailBucket?: string; deep?: boolean; signingKey?: string }) => {
            if (opts.html !== undefined && (opts.html === "" || fs.existsSync(opts.html) && fs.statSync(opts.html).isDirectory())) {
                throw new UsageError(`--html needs a file path, got ${JSON.stringify(opts.html)}`);
            }
            if (opts.simulated !== undefined && opts.trailBucket !== undefined) throw new UsageError("--simulated takes the access trail's bucket from the simulated account: leave out --trail-bucket");
            if (opts.simulated !== undefined && opts.signingKey !== undefined) throw new UsageError("--simulated takes the signing key from the simulated account: leave out --signing-key");
            const givenKey = opts.signingKey ?? process.env.DFIR_SIGNING_KEY;
            if (givenKey !== undefined && !KMS_KEY_ARN.test(givenKey)) throw new UsageError(`--signing-key must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got ${JSON.stringify(givenKey)}`);
            await inContext(opts, io, async (ctx) => {
                const bar = progressBar(io);
                const trailBucket = ctx.sim ? ctx.sim.deployment.accessTrailBucket : opts.trailBucket ?? process.env.DFIR_TRAIL_BUCKET;
                const signingKey = ctx.sim ? ctx.sim.deployment.manifestSigningKeyArn : givenKey;
                try {
                    const report = await verifyCase(ctx, caseId, { onProgress: bar.onProgress, ...(trailBucket ? { trailBucket } : {}), ...(opts.deep ? { deep: true } : {}), ...(signingKey ? { signingKey } : {}) });
                    bar.stop();
                    if (opts.html) fs.writeFileSync(opts.html, verifyHtml(report));
                    io.stdout(opts.json ? `${JSON.stringify(report)}\n` : verifyText(report));
                    code = report.ok ? 0 : 1;
                } finally {
                    bar.stop();
                }
            });
        });

    // No context: nothing here opens a client, reads credentials or a simulated account.
    program.command("verify-manifest").description("check a downloaded manifest's signature offline with the signing key's public key (no AWS credentials)")
        .argument("<file>", "the manifest as downloaded (cases/<case>/manifest-<execution>.json)")
        .requiredOption("--signature <file>", "its signature: the record beside it (<manifest>.sig.json), or the DER signature (raw or base64)")
        .requiredOption("--public-key <file>", "the signing key's public key, PEM or DER (stack output manifestSigningPublicKey, or keys/manifest-signing-<key id>.pem)")
        .option("--json", "one JSON result")
        .action((file: string, opts: { signature: string; publicKey: string; json?: boolean }) => {
            const result = verifyManifestFiles((p) => fs.readFileSync(p), { manifest: file, signature: opts.signature, publicKey: opts.publicKey });
            io.stdout(opts.json ? `${JSON.stringify(result)}\n` : verifyManifestText(result));
            code = result.valid ? 0 : 1;
        });

    program.command("digest-image").description("the content digest (aws-dfir-ebs-v1) of a dd image of a volume made from an evidence snapshot; no AWS call")
        .argument("<file>", "the image (e.g. dd if=/dev/nvme1n1 of=FILE bs=1M)")
        .option("--size <gib>", "digest the first GIB GiB (the snapshot's volume size, when the volume was made larger)")
        .option("--json", "one JSON result")
        .action(async (file: string, opts: { size?: string; json?: boolean }) => {
            const size = opts.size === undefined ? undefined : Number(opts.size);
            if (size !== undefined && !(Number.isInteger(size) && size >= 1)) throw new UsageError(`--size needs a whole number of GiB, got ${JSON.stringify(opts.size)}`);
            if (!fs.existsSync(file) || !fs.statSync(file).isFile() && !fs.statSync(file).isBlockDevice()) throw new UsageError(`${file}: no such image file`);
            const digester = new ImageDigester(size);
            for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) digester.update(chunk as Buffer);
            let result;
            try {
                result = digester.finish();
            } catch (error) {
                throw new UsageError(`${file}: ${(error as Error).message}`);
            }
            io.stdout(opts.json ? `${JSON.stringify({ file, definition: DIGEST_DEFINITION, ...result })}\n` : `${result.digest}  ${file} (${DIGEST_DEFINITION}, ${result.volumeSizeGiB} GiB, ${result.chunkDigests.length} chunk${result.chunkDigests.length === 1 ? "" : "s"})\n`);
        });

    contextOptions(program.command("release").description("undo containment from the state recorded when the case opened (the evidence stays locked)"))
        .argument("<case>", "the case id (dfir cases lists them)")
        .option("--yes", "apply the changes (without it: print what would be done, change nothing)")
        .option("--json", "one JSON result")
        .action(async (caseId: string, opts: ContextOptions & { yes?: boolean; json?: boolean }) => {
            await inContext(opts, io, async (ctx) => {
                const result = await release(ctx, caseId, { yes: opts.yes === true });
                if (result.applied) ctx.save();
                io.stdout(opts.json ? `${JSON.stringify(result)}\n` : releaseText(result));
                code = result.ok ? 0 : 1;
            });
        });

    contextOptions(program.command("attach").description("make volumes from a sealed case's snapshots on the forensic workstation and attach them (the evidence is not touched)"))
        .argument("<case>", "the case id (dfir cases lists them)")
        .option("--workstation <id>", "the workstation instance (default: the one instance tagged dfir:role=workstation)")
        .option("--yes", "create and attach (without it: print what would be done, change nothing)")
        .option("--json", "one JSON result")
        .action(async (caseId: string, opts: ContextOptions & { workstation?: string; yes?: boolean; json?: boolean }) => {
            await inContext(opts, io, async (ctx) => {
                const result = await attach(ctx, caseId, {
                    yes: opts.yes === true,
                    ...(opts.workstation !== undefined ? { workstation: opts.workstation } : {}),
                    // The simulator has no wall-clock delay to wait out.
                    ...(ctx.sim ? { pollMs: 10 } : {}),
                });
                if (result.applied) ctx.save();
                io.stdout(opts.json ? `${JSON.stringify(result)}\n` : attachText(result));
                code = result.ok ? 0 : 1;
            });
        });

    contextOptions(program.command("respond").description("start the response on an instance by hand: the deployed state machine (or, --simulated, the drill's run of it)"))
        .argument("<instance>", "the instance id")
        .option("--evidence-only", "take evidence, never contain")
        .option("--reason <text>", "why (recorded in the case and its manifest)")
        .option("--account <id>", "the instance's account (default: the caller's)")
        .option("--state-machine <arn>", "the response state machine (default DFIR_STATE_MACHINE_ARN; stack output stateMachineArn)")
        .option("--json", "one JSON result")
        .action(async (instanceId: string, opts: ContextOptions & { evidenceOnly?: boolean; reason?: string; account?: string; stateMachine?: string; json?: boolean }) => {
            await inContext(opts, io, async (ctx) => {
                const result = await respond(ctx, {
                    instanceId,
                    evidenceOnly: opts.evidenceOnly === true,
                    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
                    ...(opts.account !== undefined ? { account: opts.account } : {}),
                    ...(opts.stateMachine !== undefined ? { stateMachineArn: opts.stateMachine } : {}),
                });
                if (ctx.sim) ctx.save();
                io.stdout(opts.json ? `${JSON.stringify(result)}\n` : respondText(result));
                code = result.status === "FAILED" ? 1 : 0;
            });
        });

    try {
        await program.parseAsync([...argv], { from: "user" });
        return code;
    } catch (error) {
        if (error instanceof CommanderError) {
            if (error.exitCode === 0) return 0; // --help, --version
            io.stderr(`dfir: ${error.message.replace(/^error: /, "").split("\n")[0]}\n`);
            return 2;
        }
        if (error instanceof UsageError) {
            io.stderr(`dfir: ${error.message}\n`);
            return 2;
        }
        const e = error as Error;
        io.stderr(`dfir: ${e.name ?? "Error"}: ${(e.message ?? String(error)).split("\n")[0]}\n`);
        return 3;
    }
}

/** `dfir respond`'s text output. */
function respondText(r: import("./respond").RespondResult): string {
    const lines = [
        `manual response on ${r.instanceId} (${r.accountId} ${r.region}) requested by ${r.requestedBy}${r.evidenceOnly ? ", evidence only" : ""}`,
        ...(r.reason ? [`reason: ${r.reason}`] : []),
        ...(r.executionArn ? [`started ${r.executionArn}`] : []),
        ...(r.status ? [`case ${r.caseId ?? "(none)"}: ${r.status}${r.statusReason ? ` (${r.statusReason})` : ""}`] : []),
    ];
    return `${lines.join("\n")}\n`;
}
