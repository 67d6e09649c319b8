/**
 * Memory evidence: a preflight that says precisely why a capture cannot happen (Windows, no avml build for the
 * instance's architecture, SSM agent offline, avml not staged or not the pinned build), then one SSM command running
 * the project's capture document with the instance's own build (a retried
 * start adopts the command an earlier attempt sent, found with `ListCommands`), then
 * a poll that, on success, verifies the uploaded image without reading it: the SHA-256 S3 computed and kept for each
 * part of the upload must equal the instance's digest of that part (core/memoryParts.ts), a few API calls whatever
 * the image's size. A known gap is a result (`status: "missing"` with a reason); only a capture that claims
 * success but whose bytes do not check out is an error.
 */
import { GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand, type GetObjectAttributesCommandOutput, type S3Client } from "@aws-sdk/client-s3";
import {
    CancelCommandCommand,
    DescribeInstanceInformationCommand,
    GetCommandInvocationCommand,
    ListCommandsCommand,
    SendCommandCommand,
    type Command,
    type SSMClient,
} from "@aws-sdk/client-ssm";
import { AVML_BUILDS, avmlBuildFor, type AvmlBuild, type StagedAvml, type StagedAvmlBuilds } from "../../core/avml";
import { CAPTURE_EXIT_CODES, memoryCommandParameters, memoryObjectKeys } from "../../core/ssmDocument";
import { casePrefix, type InstanceRecord, type MemoryEvidence, type Target } from "../../core/workflow";
import {
    addSeconds,
    awsErrorIs,
    errorText,
    isRecord,
    parseStepEvent,
    sameInstance,
    STEP_WITH_EVIDENCE,
} from "../lib/evidence";
import * as z from "zod";
import { actionError, isoTime, nonEmpty } from "../lib/schemas";
import { log } from "../lib/log";
import { HashMismatchError, InvalidRequestError, MemoryCaptureFailedError } from "../lib/evidenceErrors";
import { comparePartRecord, partRecordProblem, partsSha256, S3_MAX_PARTS, S3_PARTS_PAGE, type PartRecord, type StoredPart } from "../../core/memoryParts";

/** Default cap of the poll loop (MEMORY_CAP_SECONDS): 3 hours, enough to stream a large host's RAM to S3. */
export const DEFAULT_MEMORY_CAP_SECONDS = 10_800;
/**
 * SendCommand's `TimeoutSeconds` is the *delivery* timeout (how long the command may wait for the agent to pick it
 * up), not the run time; the agent was just seen Online, so 10 minutes is generous. The run time is bounded by
 * the document itself and by the poll cap.
 */
export const DELIVERY_TIMEOUT_SECONDS = 600;
/**
 * How many pages of `ListCommands` (50 commands each) the start reads looking for a capture an earlier attempt sent;
 * past that it sends (and says so in the log). The listing is one document's commands of the last few hours, so
 * more than a page means a busy account, not a normal one.
 */
export const MAX_LOOKUP_PAGES = 10;
/** ListCommands' largest page. */
const LOOKUP_PAGE_SIZE = 50;
/** capture.sh's exit codes by number, as kebab-case names (`14` -> `avml-hash-mismatch`), for failure reasons. */
const EXIT_CODE_NAMES = new Map<number, string>(
    Object.entries(CAPTURE_EXIT_CODES)
        .filter(([, code]) => code !== 0)
        .map(([name, code]) => [code, name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)]),
);
/** The sidecar is at most 10,000 part digests (under 700 KB) plus a few fields; anything larger is not one. */
const MAX_SIDECAR_BYTES = 1024 * 1024;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Pages of GetObjectAttributes the check reads at most: 10,000 parts at 1,000 a page. */
const MAX_PART_PAGES = Math.ceil(S3_MAX_PARTS / S3_PARTS_PAGE);

/** Reason codes of a missing memory image (the manifest and the case reason quote them). */
export const MEMORY_MISSING = {
    /**
     * A Windows instance: no capture is attempted and nothing is sent to it. avml and the capture document are
     * Linux-only; no Windows memory tool (e.g. WinPmem) is integrated (docs/limitations.md).
     */
    windows: "windows: avml is Linux-only; no Windows memory tool is integrated",
    /** An EC2 Mac instance (Architecture x86_64_mac / arm64_mac): macOS, which avml cannot capture. */
    macos: "macos: avml is Linux-only",
    /** An architecture avml publishes no build for (e.g. i386); the reason names it. */
    unsupportedArchitecture: "avml-unsupported-architecture",
    /** The case's instance record carries no architecture (recorded before it was): no build can be chosen. */
    architectureUnknown: "instance-architecture-unknown",
    agentOffline: "ssm-agent-offline",
    /**
     * No avml build configured for the instance's architecture (AVML_<BUILD>_KEY / _SHA256 unset: the deployment
     * staged none, the component's default, or only the other build). The reason names the build missing.
     */
    avmlNotConfigured: "avml-not-configured",
    /** HeadObject answered 404: the build is not in the bucket (the function may list tools/, so S3 tells missing from forbidden). */
    avmlNotStaged: "avml-not-staged",
    /** HeadObject answered 403: the object exists but may not be read (a bucket or key policy, a changed role), or the function lacks s3:ListBucket on tools/. */
    avmlNotReadable: "avml-not-readable",
    avmlHashMismatch: "avml-hash-mismatch",
    timeout: "capture-timeout",
    failed: "capture-failed",
} as const;

/** The capture layout (`cases/<caseId>/memory/<instanceId>.lime` and `.lime.json`), owned by core/ssmDocument.ts. */
export { memoryObjectKeys };

/** Where SSM writes the command's full stdout/stderr (GetCommandInvocation truncates them). */
export function ssmOutputPrefix(caseId: string): string {
    return `${casePrefix(caseId)}ssm/`;
}

/**
 * The memory step's result. Beyond the contract's {@link MemoryEvidence}, `startedAt` records when the command
 * was sent (the manifest's action log needs a time; the contract has no field for it).
 */
export type MemoryResult = MemoryEvidence & { startedAt?: string };

/** The started memory the check is given back (the start's result): what the check reads is checked, the rest passed on. */
const StartedMemorySchema = z
    .looseObject(
        { status: z.literal("started", { error: 'must be "started"' }), commandId: nonEmpty("a command id"), deadline: isoTime() },
        { error: 'must be the started MemoryEvidence {status: "started", commandId, deadline}' },
    )
    .transform((memory) => memory as unknown as MemoryResult);

/**
 * `{action: "start"}`: preflight and send the capture command; `{action: "check"}`: poll the command named in
 * `memory`. Both carry `{caseId, target, instance, evidence: {bucket, prefix}}`.
 */
export const MemoryEventSchema = z
    .discriminatedUnion(
        "action",
        [
            z.object({ action: z.literal("start"), ...STEP_WITH_EVIDENCE }),
            z.object({ action: z.literal("check"), ...STEP_WITH_EVIDENCE, memory: StartedMemorySchema }),
        ],
        { error: actionError('"start" or "check"') },
    )
    .superRefine(sameInstance);

export type MemoryEvent = z.infer<typeof MemoryEventSchema>;
export type MemoryStartEvent = Extract<MemoryEvent, { action: "start" }>;
export type MemoryCheckEvent = Extract<MemoryEvent, { action: "check" }>;


export interface MemorySettings {
    /** MEMORY_DOCUMENT: name of the project's SSM Command document. */
    documentName: string;
    /**
     * The staged avml builds (AVML_X86_64_* / AVML_AARCH64_*): key in the evidence bucket and expected sha256
     * (lower-case hex) of each. A build not staged: memory of instances of that architecture is reported missing,
     * not an error.
     */
    avml: StagedAvmlBuilds;
    /** MEMORY_CAP_SECONDS. */
    capSeconds: number;
    now: () => Date;
}

/** The clients the memory step needs: SSM in the instance's account, S3 in the evidence bucket's. */
export interface MemoryClients {
    ssm: SSMClient;
    s3: S3Client;
}

export function parseMemoryEvent(input: unknown): MemoryEvent {
    return parseStepEvent("memory", MemoryEventSchema, input);
}

/**
 * Preflight, then send the capture command — or adopt the one an earlier attempt of this step already sent. The
 * command's parameters hold names and hashes only — never credentials: `ListCommands` shows parameters to anyone
 * who may list commands, and the instance writes to S3 with its (swapped-in) capture instance profile, which may
 * only read the pinned tools and write memory images and SSM output under `cases/`.
 *
 * Idempotent: SSM has no client token, so before sending, the start lists the capture document's recent commands
 * (`ListCommands`, see {@link findEarlierCapture}) and adopts the newest one sent to this instance with exactly
 * this case's parameters, whatever its status (the check step reports how it ended: a failed capture is reported,
 * never re-run). A Lambda killed by its timeout after SendCommand therefore resumes on the first command instead of
 * capturing twice. The residual window: ListCommands is eventually consistent, so a retry within seconds of the
 * SendCommand might not see it and send a second one; Step Functions retries a killed step only after the
 * function's whole timeout (plus backoff), so in practice the first command is listed by then. The preflight still
 * comes first: a known gap (Windows, agent offline, avml missing) is a `missing` result, never an adoption.
 */
export async function startMemoryCapture(clients: MemoryClients, event: MemoryStartEvent, settings: MemorySettings): Promise<MemoryResult> {
    const { caseId, target, instance, evidence } = event;
    const context = { caseId, instanceId: target.instanceId };

    const ready = await preflight(clients, event, settings);
    if ("missing" in ready) {
        log("WARN", "memory capture not possible", { ...context, reason: ready.missing });
        return { status: "missing", reason: ready.missing };
    }
    const avml = { build: ready.build, ...ready.staged };

    const now = settings.now();
    let parameters: Record<string, string[]>;
    try {
        // Checked against the document's allowedPattern before sending: SSM would only reject them after creating
        // the command.
        parameters = memoryCommandParameters({
            bucket: evidence.bucket,
            caseId,
            instanceId: target.instanceId,
            avmlKey: avml.key,
            avmlSha256: avml.sha256,
            region: target.region,
        });
    } catch (error) {
        throw new InvalidRequestError([errorText(error)], context, "memory");
    }

    const earlier = await findEarlierCapture(clients.ssm, settings, instance.instanceId, parameters, now, context);
    if (earlier !== undefined) {
        const requested = earlier.RequestedDateTime instanceof Date && !Number.isNaN(earlier.RequestedDateTime.getTime()) ? earlier.RequestedDateTime : now;
        const result: MemoryResult = {
            status: "started",
            commandId: earlier.CommandId as string,
            deadline: addSeconds(requested, settings.capSeconds).toISOString(),
            startedAt: requested.toISOString(),
            avml,
        };
        log("INFO", "memory capture adopted", { ...context, commandId: result.commandId, commandStatus: earlier.Status, requestedAt: result.startedAt, deadline: result.deadline });
        return result;
    }

    const out = await clients.ssm.send(
        new SendCommandCommand({
            DocumentName: settings.documentName,
            InstanceIds: [instance.instanceId],
            Comment: `aws-dfir memory capture, case ${caseId}`.slice(0, 100),
            Parameters: parameters,
            OutputS3BucketName: evidence.bucket,
            OutputS3KeyPrefix: ssmOutputPrefix(caseId),
            TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
        }),
    );
    const commandId = out.Command?.CommandId;
    if (!commandId) throw new MemoryCaptureFailedError(context, "SendCommand returned no command id");
    const result: MemoryResult = {
        status: "started",
        commandId,
        deadline: addSeconds(now, settings.capSeconds).toISOString(),
        startedAt: now.toISOString(),
        avml,
    };
    log("INFO", "memory capture started", { ...context, commandId, deadline: result.deadline, avml });
    return result;
}

/**
 * The newest capture command already sent for this case to this instance, or undefined. Lists the capture
 * document's commands requested since `now - (capSeconds + DELIVERY_TIMEOUT_SECONDS)` and keeps those whose
 * `InstanceIds` include the instance and whose `Parameters` are exactly `parameters` (they name the case's
 * `KeyPrefix` and the `InstanceId`, so another case's or another instance's capture never matches). Not filtered by
 * `InstanceId` on the service side: ListCommands does not list a command that is still Pending under an instance.
 * The newest is chosen by `RequestedDateTime`, whatever order the pages come in.
 *
 * Reads at most {@link MAX_LOOKUP_PAGES} pages, then gives up and the caller sends (logged). A responder role
 * without `ssm:ListCommands` (a member account not yet updated) is logged and the caller sends, as before this
 * lookup existed; any other error goes to the state machine (throttling is retried there).
 */
export async function findEarlierCapture(
    ssm: SSMClient,
    settings: Pick<MemorySettings, "documentName" | "capSeconds">,
    instanceId: string,
    parameters: Record<string, string[]>,
    now: Date,
    context: Record<string, unknown>,
): Promise<Command | undefined> {
    // The bound only has to reach back past any attempt of this step: Step Functions retries a killed step within
    // minutes (the function's timeout plus backoff, twice at most). Going back the whole cap plus the delivery
    // timeout is generous and still principled: a command requested earlier than that is past the deadline the
    // check would give it, so adopting it could only end in capture-timeout. Whole seconds, as ListCommands'
    // examples write timestamps; flooring only widens the window.
    const since = addSeconds(now, -(settings.capSeconds + DELIVERY_TIMEOUT_SECONDS)).toISOString().replace(/\.\d{3}Z$/, "Z");
    let newest: Command | undefined;
    let nextToken: string | undefined;
    for (let page = 1; ; page++) {
        let out;
        try {
            out = await ssm.send(
                new ListCommandsCommand({
                    Filters: [
                        { key: "DocumentName", value: settings.documentName },
                        { key: "InvokedAfter", value: since },
                    ],
                    MaxResults: LOOKUP_PAGE_SIZE,
                    NextToken: nextToken,
                }),
            );
        } catch (error) {
            if (!awsErrorIs(error, ["AccessDeniedException", "AccessDenied"])) throw error;
            log("WARN", "cannot look for an earlier memory capture (ssm:ListCommands denied); sending", { ...context, error: errorText(error) });
            return undefined;
        }
        for (const command of out.Commands ?? []) {
            if (!command.CommandId || command.DocumentName !== settings.documentName) continue;
            if (!(command.InstanceIds ?? []).includes(instanceId) || !sameParameters(command.Parameters, parameters)) continue;
            if (newest === undefined || requestedMs(command) > requestedMs(newest)) newest = command;
        }
        nextToken = out.NextToken || undefined;
        if (nextToken === undefined) return newest;
        if (page >= MAX_LOOKUP_PAGES) {
            if (newest === undefined) {
                log("WARN", "no earlier memory capture found in the pages read; sending", { ...context, pages: page, since });
            }
            return newest;
        }
    }
}

function requestedMs(command: Command): number {
    const at = command.RequestedDateTime;
    return at instanceof Date && !Number.isNaN(at.getTime()) ? at.getTime() : Number.NEGATIVE_INFINITY;
}

/** Same parameter names, each with the same values in the same order. */
function sameParameters(actual: Record<string, string[]> | undefined, expected: Record<string, string[]>): boolean {
    if (actual === undefined) return false;
    const names = Object.keys(expected);
    if (Object.keys(actual).length !== names.length) return false;
    return names.every((name) => {
        const a = actual[name];
        const e = expected[name];
        return Array.isArray(a) && a.length === e.length && a.every((v, i) => v === e[i]);
    });
}

/**
 * The avml build to send, or why a capture cannot run. Checked in order of cost, and before anything is sent:
 * Windows (avml is Linux-only), the build for the instance's architecture (core/avml.ts avmlBuildFor: x86_64 ->
 * x86_64, arm64 -> aarch64; Mac, other or unknown architectures have none) and whether the deployment staged it,
 * the agent's ping status, then that build's object and its recorded `x-amz-meta-sha256` (the instance checks the
 * binary's real hash and its machine again before running it; this check turns a certain failure into a precise
 * reason). HeadObject answers 404 for a missing object only to a caller allowed s3:ListBucket on the key (S3 API
 * Reference, HeadObject, "Permissions"; the memory function is, on tools/), 403 otherwise: 404 is
 * `avml-not-staged`, 403 `avml-not-readable`.
 */
export async function preflight(
    clients: MemoryClients,
    event: MemoryStartEvent,
    settings: MemorySettings,
): Promise<{ build: AvmlBuild; staged: StagedAvml } | { missing: string }> {
    if (event.instance.platform === "windows") return { missing: MEMORY_MISSING.windows };
    const chosen = avmlBuildFor(event.instance.architecture);
    if ("none" in chosen) {
        if (chosen.none === "macos") return { missing: MEMORY_MISSING.macos };
        if (chosen.none === "unknown") return { missing: MEMORY_MISSING.architectureUnknown };
        return { missing: `${MEMORY_MISSING.unsupportedArchitecture}: ${chosen.architecture}` };
    }
    const staged = settings.avml[chosen.build];
    if (staged === undefined) {
        const any = AVML_BUILDS.some((b) => settings.avml[b] !== undefined);
        return { missing: any ? `${MEMORY_MISSING.avmlNotConfigured}: no ${chosen.build} build` : MEMORY_MISSING.avmlNotConfigured };
    }

    const info = await clients.ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [event.target.instanceId] }] }),
    );
    const managed = (info.InstanceInformationList ?? []).find((i) => i.InstanceId === event.target.instanceId);
    if (managed?.PingStatus !== "Online") return { missing: MEMORY_MISSING.agentOffline };

    let head;
    try {
        head = await clients.s3.send(new HeadObjectCommand({ Bucket: event.evidence.bucket, Key: staged.key }));
    } catch (error) {
        if (awsErrorIs(error, ["NotFound", "NoSuchKey"], 404)) return { missing: MEMORY_MISSING.avmlNotStaged };
        if (awsErrorIs(error, ["Forbidden", "AccessDenied"], 403)) return { missing: MEMORY_MISSING.avmlNotReadable };
        throw error;
    }
    const recorded = head.Metadata?.sha256?.trim().toLowerCase();
    if (recorded !== staged.sha256) return { missing: MEMORY_MISSING.avmlHashMismatch };
    return { build: chosen.build, staged };
}

/**
 * One poll of the capture command. Still running -> the same evidence back (or `capture-timeout` past the
 * deadline); failed -> missing with SSM's status detail and exit code; succeeded -> the image is hashed from S3
 * and must match the instance's sidecar, else {@link HashMismatchError}.
 */
export async function checkMemoryCapture(clients: MemoryClients, event: MemoryCheckEvent, settings: MemorySettings): Promise<MemoryResult> {
    const { caseId, target, memory } = event;
    const context = { caseId, instanceId: target.instanceId, commandId: memory.commandId };
    const commandId = memory.commandId as string;
    const now = settings.now();
    const pastDeadline = now.getTime() > Date.parse(memory.deadline as string);

    let invocation;
    try {
        invocation = await clients.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: target.instanceId }));
    } catch (error) {
        // Right after SendCommand the invocation may not exist yet (eventual consistency): still pending.
        if (!awsErrorIs(error, ["InvocationDoesNotExist"])) throw error;
        invocation = { Status: "Pending" } as const;
    }
    const status = invocation.Status ?? "Pending";

    if (status === "Pending" || status === "InProgress" || status === "Delayed" || status === "Cancelling") {
        if (!pastDeadline) return memory;
        await cancelQuietly(clients.ssm, commandId, target.instanceId, context);
        log("WARN", "memory capture timed out", { ...context, status, deadline: memory.deadline });
        return { ...memory, status: "missing", reason: MEMORY_MISSING.timeout };
    }
    if (status !== "Success") {
        const detail = "StatusDetails" in invocation && invocation.StatusDetails ? invocation.StatusDetails : status;
        const code = "ResponseCode" in invocation && invocation.ResponseCode !== undefined ? invocation.ResponseCode : "none";
        const named = typeof code === "number" ? EXIT_CODE_NAMES.get(code) : undefined;
        const reason = `${MEMORY_MISSING.failed}: ${detail} exit ${code}${named ? ` (${named})` : ""}`;
        log("WARN", "memory capture failed", { ...context, status, reason });
        return { ...memory, status: "missing", reason };
    }

    const verified = await verifyCapture(clients.s3, event);
    log("INFO", "memory image verified", { ...context, object: verified.object, partSize: verified.partSize, partCount: verified.partCount, partsSha256: verified.partsSha256 });
    return { ...memory, status: "captured", ...verified };
}

/** What the check records of a verified image. */
export interface VerifiedImage {
    object: NonNullable<MemoryEvidence["object"]>;
    hostSha256: string;
    partSize: number;
    partCount: number;
    partsSha256: string;
}

/**
 * Reads the instance's sidecar, then S3's record of the image's parts (`GetObjectAttributes`, 1,000 parts a page),
 * never the image: the object's size must be the sidecar's `bytes`, and part for part, in order, the size and the
 * SHA-256 S3 computed from the bytes it received must be what the instance computed from the bytes it streamed.
 * Then what S3 holds is what the instance hashed, and the instance's whole-image sha256 (computed from the same
 * stream) is recorded as the image's. A difference is a {@link HashMismatchError}; an image uploaded without
 * SHA-256 part checksums, or a sidecar without a usable part list, cannot be verified: {@link MemoryCaptureFailedError}.
 */
export async function verifyCapture(
    s3: S3Client,
    event: { caseId: string; target: Target; evidence: { bucket: string } },
): Promise<VerifiedImage> {
    const context = { caseId: event.caseId, instanceId: event.target.instanceId };
    const bucket = event.evidence.bucket;
    const keys = memoryObjectKeys(event.caseId, event.target.instanceId);

    const sidecar = await readSidecar(s3, bucket, keys.sidecar, context);
    const stored = await storedParts(s3, bucket, keys.image, context);
    const location = `s3://${bucket}/${keys.image}${stored.versionId ? `?versionId=${stored.versionId}` : ""}`;
    const record: PartRecord = { bytes: sidecar.bytes, partSize: sidecar.partSize, parts: sidecar.parts };
    const expectedDigest = partsSha256(sidecar.parts);
    const difference = comparePartRecord(record, stored.size, stored.parts);
    if (difference?.kind === "part") {
        throw new HashMismatchError(context, `${location} part ${difference.partNumber} of ${sidecar.parts.length}`, difference.expected, difference.actual, `S3's part ${difference.partNumber}`);
    }
    if (difference !== undefined) {
        // The part lists differ as a whole (size or count): their digests say so, with what each side holds.
        const actualDigest = stored.parts.every((p) => p.sha256 !== undefined) ? partsSha256(stored.parts.map((p) => p.sha256 as string)) : "none";
        throw new HashMismatchError(
            context,
            `${location} (part list: ${sidecar.parts.length} parts of ${sidecar.partSize} bytes reported, ${stored.parts.length} stored)`,
            { sha256: expectedDigest, bytes: sidecar.bytes },
            { sha256: actualDigest, bytes: stored.size },
            "S3's part list",
        );
    }
    const object: NonNullable<MemoryEvidence["object"]> = { bucket, key: keys.image, sha256: sidecar.sha256, bytes: sidecar.bytes };
    if (stored.versionId) object.versionId = stored.versionId;
    return { object, hostSha256: sidecar.sha256, partSize: sidecar.partSize, partCount: sidecar.parts.length, partsSha256: expectedDigest };
}

/**
 * The image's parts as S3 keeps them: `GetObjectAttributes` (ObjectSize, Checksum, ObjectParts), 1,000 parts a
 * page, following `NextPartNumberMarker` while `IsTruncated`. Every page must describe the same version (the first
 * page's; a new version written meanwhile is refused, not mixed in). An object without SHA-256 part checksums
 * (uploaded without `--checksum-algorithm SHA256`, or not multipart) cannot be verified this way.
 */
async function storedParts(
    s3: S3Client,
    bucket: string,
    key: string,
    context: { caseId: string; instanceId: string },
): Promise<{ versionId?: string; size: number; parts: StoredPart[] }> {
    const parts: StoredPart[] = [];
    let versionId: string | undefined;
    let size = 0;
    let marker: string | undefined;
    for (let page = 1; ; page++) {
        let out: GetObjectAttributesCommandOutput;
        try {
            out = await s3.send(
                new GetObjectAttributesCommand({
                    Bucket: bucket,
                    Key: key,
                    ObjectAttributes: ["ObjectSize", "Checksum", "ObjectParts"],
                    MaxParts: S3_PARTS_PAGE,
                    ...(marker !== undefined ? { PartNumberMarker: marker } : {}),
                }),
            );
        } catch (error) {
            if (awsErrorIs(error, ["NoSuchKey", "NotFound"], 404) || awsErrorIs(error, ["AccessDenied", "Forbidden"], 403)) {
                throw new MemoryCaptureFailedError(context, `image s3://${bucket}/${key} not found or not readable (${errorText(error)})`, { cause: error });
            }
            throw error;
        }
        if (page === 1) {
            versionId = out.VersionId || undefined;
            size = typeof out.ObjectSize === "number" ? out.ObjectSize : Number.NaN;
            if (!Number.isSafeInteger(size)) throw new MemoryCaptureFailedError(context, `GetObjectAttributes of s3://${bucket}/${key} gave no ObjectSize`);
            if (out.Checksum?.ChecksumSHA256 === undefined || out.ObjectParts === undefined) {
                const has = Object.keys(out.Checksum ?? {}).filter((k) => k.startsWith("Checksum") && k !== "ChecksumType").join(", ") || "no checksum";
                throw new MemoryCaptureFailedError(
                    context,
                    `image s3://${bucket}/${key} was not uploaded in parts with SHA-256 checksums (${has}${out.ObjectParts === undefined ? ", no parts" : ""}): it cannot be verified without reading it`,
                );
            }
        } else if ((out.VersionId || undefined) !== versionId) {
            throw new MemoryCaptureFailedError(context, `image s3://${bucket}/${key} changed while its parts were read (version ${versionId ?? "null"}, then ${out.VersionId ?? "null"})`);
        }
        for (const part of out.ObjectParts?.Parts ?? []) {
            const digest = part.ChecksumSHA256 === undefined ? undefined : Buffer.from(part.ChecksumSHA256, "base64");
            if (typeof part.PartNumber !== "number" || typeof part.Size !== "number" || digest === undefined || digest.length !== 32) {
                throw new MemoryCaptureFailedError(context, `image s3://${bucket}/${key}: part ${part.PartNumber ?? "?"} has no SHA-256 checksum (or no number or size) in GetObjectAttributes`);
            }
            parts.push({ partNumber: part.PartNumber, size: part.Size, sha256: digest.toString("hex") });
        }
        const next = out.ObjectParts?.NextPartNumberMarker;
        if (!out.ObjectParts?.IsTruncated) break;
        if (next === undefined || next === marker || page >= MAX_PART_PAGES) {
            throw new MemoryCaptureFailedError(context, `GetObjectAttributes of s3://${bucket}/${key} kept paging (page ${page}, next marker ${next ?? "none"})`);
        }
        marker = String(next);
    }
    return { ...(versionId ? { versionId } : {}), size, parts };
}

/** The sidecar `{sha256, bytes, partSize, parts, ...}` the capture script wrote after streaming the image. */
async function readSidecar(
    s3: S3Client,
    bucket: string,
    key: string,
    context: { caseId: string; instanceId: string },
): Promise<{ sha256: string; bytes: number; partSize: number; parts: string[] }> {
    let out;
    try {
        out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
        if (awsErrorIs(error, ["NoSuchKey", "NotFound"], 404) || awsErrorIs(error, ["AccessDenied", "Forbidden"], 403)) {
            throw new MemoryCaptureFailedError(context, `sidecar s3://${bucket}/${key} not found or not readable (${errorText(error)})`, { cause: error });
        }
        throw error;
    }
    let text: string;
    try {
        text = await readSmall(out.Body as AsyncIterable<Uint8Array | string> | undefined, MAX_SIDECAR_BYTES);
    } catch (error) {
        throw new MemoryCaptureFailedError(context, `sidecar s3://${bucket}/${key} unreadable: ${errorText(error)}`, { cause: error });
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new MemoryCaptureFailedError(context, `sidecar s3://${bucket}/${key} is not JSON`, { cause: error });
    }
    const sha256 = isRecord(parsed) && typeof parsed.sha256 === "string" ? parsed.sha256.trim().toLowerCase() : undefined;
    if (sha256 === undefined || !SHA256_HEX.test(sha256)) {
        throw new MemoryCaptureFailedError(context, `sidecar s3://${bucket}/${key} has no sha256 (64 hex digits)`);
    }
    const fields = parsed as Record<string, unknown>;
    const problem = partRecordProblem(fields);
    if (problem !== undefined) {
        throw new MemoryCaptureFailedError(context, `sidecar s3://${bucket}/${key} has no usable part list (${problem}): the image cannot be verified`);
    }
    return { sha256, bytes: fields.bytes as number, partSize: fields.partSize as number, parts: fields.parts as string[] };
}

/** Reads a small body whole, refusing anything over `limit` bytes. */
async function readSmall(body: AsyncIterable<Uint8Array | string> | undefined, limit: number): Promise<string> {
    if (body === undefined) throw new Error("no body");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk);
        size += buffer.byteLength;
        if (size > limit) throw new Error(`larger than ${limit} bytes`);
        chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
}

/** Stops a capture that overran its cap, so avml does not keep loading the host; never fails the step. */
async function cancelQuietly(ssm: SSMClient, commandId: string, instanceId: string, context: Record<string, unknown>): Promise<void> {
    try {
        await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
    } catch (error) {
        log("WARN", "could not cancel the overrunning capture command", { ...context, error: errorText(error) });
    }
}
