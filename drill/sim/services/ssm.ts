/**
 * SSM Run Command with a simulated agent, and SNS Publish.
 *
 * Only the project's memory-capture document (core/ssmDocument.ts) is executable, and the simulated agent does
 * what its script (functions/memory/capture.sh) does, in the same order and with the same exit codes
 * (`CAPTURE_EXIT_CODES`): fetch `AvmlKey` from `Bucket` with the instance's profile (13 when it cannot: bucket
 * missing or in another region, object missing, or — unless `requireCaptureProfile` is off — the instance does
 * not hold the capture profile), check its sha256 against `AvmlSha256` (14) and its ELF machine against the
 * instance's architecture (19), run avml (15 under avml-fails),
 * then write, when the invocation falls due (`memoryDurationMs` of simulator time after SendCommand):
 * - `<KeyPrefix><InstanceId>.lime`: `memoryBytes` deterministic bytes in LiME format, a multipart upload with
 *   SHA-256 part checksums in parts of the script's size (core/memoryParts.ts);
 * - `<KeyPrefix><InstanceId>.lime.json`: `{"sha256","bytes","avmlSha256","instanceId","startedAt","finishedAt",
 *   "partSize","partCount","parts"}`, every digest computed over exactly those bytes (under memory-hash-mismatch
 *   over bytes one bit different from the upload's), printed without `parts` on stdout;
 * and the plugin's stdout/stderr under `<OutputS3KeyPrefix>/<CommandId>/<InstanceId>/awsrunShellScript/captureMemory/`.
 * Effects are applied lazily: the first time anything looks at the world after the due time.
 * ListCommands lists the commands sent (newest first) with the status GetCommandInvocation would report, so the
 * memory step can find and adopt the capture an earlier attempt sent.
 */
import type {
    DescribeInstanceInformationCommandInput,
    DescribeInstanceInformationCommandOutput,
    GetCommandInvocationCommandInput,
    GetCommandInvocationCommandOutput,
    InstanceInformation,
    ListCommandsCommandInput,
    ListCommandsCommandOutput,
    Command,
    SendCommandCommandInput,
    SendCommandCommandOutput,
    CancelCommandCommandInput,
} from "@aws-sdk/client-ssm";
import type { AvmlBuild } from "../../../core/avml";
import { CAPTURE_EXIT_CODES, CAPTURE_STEP_NAME } from "../../../core/ssmDocument";
import { notImplemented } from "../errors";
import { captureExpectedSize, capturePartSize, s3transferChunksize } from "../../../core/memoryParts";
import { bufferDigest, concatSha256 } from "../digest";
import { elfMachine, fakeAvml, memoryImageParts, sha256Hex } from "../memory";
import type { CommandState, DocumentState, InstanceState, InvocationState, RegionState } from "../state";
import { required, type CallContext, type Handler, type World } from "../world";
import { MultipartUpload, putVersion } from "./s3";
import { forensicChannelVerdict } from "../network";
import { AGENT_ACCESS_DENIED_BACKOFF_MS, agentSession, firstDenied, instanceSession, type IamDenial } from "../iam/index";
import { authorizationsFor } from "../iam/requests";

type Out<T> = Omit<T, "$metadata">;

/** GetCommandInvocation returns at most this much of stdout / stderr (the rest only in S3). */
export const STDOUT_LIMIT = 24_000;
export const STDERR_LIMIT = 8_000;
/** The memory document's step: its name appears in output keys and as PluginName. */
export const MEMORY_STEP = CAPTURE_STEP_NAME;
const PLUGIN_DIR = "awsrunShellScript";
const DEFAULT_TIMEOUT_SECONDS = 3600;

function platformType(instance: InstanceState): "Linux" | "Windows" {
    return instance.platform === "windows" ? "Windows" : "Linux";
}

/**
 * The agent's status as SSM sees it: its own (Online, ConnectionLost), and ConnectionLost while the network cuts it
 * off from the SSM endpoints or S3 (a network ACL or group on the way: drill/sim/network.ts).
 */
export function pingStatus(r: RegionState, instance: InstanceState): InstanceState["ssmPingStatus"] {
    if (instance.ssmPingStatus !== "Online") return instance.ssmPingStatus;
    const primary = instance.networkInterfaceIds.map((id) => r.networkInterfaces[id]).find((e) => e?.attachment?.deviceIndex === 0);
    return primary && forensicChannelVerdict(r, primary) !== undefined ? "ConnectionLost" : "Online";
}

const describeInstanceInformation: Handler<DescribeInstanceInformationCommandInput, Out<DescribeInstanceInformationCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    let managed = Object.values(r.instances).filter((i) => i.ssmPingStatus !== undefined);
    const filters: { key: string; values: string[] }[] = [
        ...(input.Filters ?? []).map((f) => ({ key: f.Key ?? "", values: f.Values ?? [] })),
        ...(input.InstanceInformationFilterList ?? []).map((f) => ({ key: f.key ?? "", values: f.valueSet ?? [] })),
    ];
    for (const filter of filters) {
        const get: Record<string, (i: InstanceState) => string> = {
            InstanceIds: (i) => i.instanceId,
            PingStatus: (i) => pingStatus(r, i) ?? "",
            PlatformTypes: (i) => platformType(i),
            ResourceType: () => "EC2Instance",
        };
        const fn = get[filter.key];
        if (!fn) throw notImplemented(ctx.action, `filter "${filter.key}"`);
        managed = managed.filter((i) => filter.values.includes(fn(i)));
    }
    const now = world.now();
    const list: InstanceInformation[] = managed.map((i) => ({
        InstanceId: i.instanceId,
        PingStatus: pingStatus(r, i),
        LastPingDateTime: new Date(pingStatus(r, i) === "Online" ? now - 60_000 : (i.terminatedAt ?? now - 3_600_000)),
        AgentVersion: "3.3.1142.0",
        IsLatestVersion: true,
        PlatformType: platformType(i),
        PlatformName: i.platform === "windows" ? "Microsoft Windows Server 2022 Datacenter" : "Amazon Linux",
        PlatformVersion: i.platform === "windows" ? "10.0.20348" : "2023",
        ResourceType: "EC2Instance",
        IPAddress: i.privateIpAddress,
        ComputerName: i.platform === "windows" ? `EC2AMAZ-${i.instanceId.slice(2, 9).toUpperCase()}` : `ip-${i.privateIpAddress.replace(/\./g, "-")}.ec2.internal`,
        SourceId: i.instanceId,
        SourceType: "AWS::EC2::Instance",
    }));
    return { InstanceInformationList: list };
};

function validateParameters(world: World, ctx: CallContext, doc: DocumentState, parameters: Record<string, unknown>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(parameters)) {
        if (!doc.requiredParameters.includes(name) && !doc.optionalParameters.includes(name)) {
            throw world.error(ctx, "InvalidParameters", `Parameter "${name}" is not defined in document ${doc.name}.`);
        }
        if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
            throw world.error(ctx, "InvalidParameters", `Parameter "${name}" must be a list of strings.`);
        }
        const pattern = doc.patterns[name];
        for (const v of value as string[]) {
            if (pattern !== undefined && !new RegExp(pattern).test(v)) {
                throw world.error(ctx, "InvalidParameters", `Parameter "${name}" "${v}" failed to satisfy constraint: allowedPattern: ${pattern}`);
            }
        }
        out[name] = [...value];
    }
    for (const name of doc.requiredParameters) {
        if (!out[name] || out[name].length === 0 || out[name][0] === "") {
            throw world.error(ctx, "InvalidParameters", `Missing required parameter "${name}" for document ${doc.name}.`);
        }
    }
    return out;
}

/**
 * What the instance's own processes will ask AWS for, authorized as the instance's profile role now (the simulator
 * applies the capture later, synchronously; IAM is evaluated when the command is sent): the script's avml download
 * (`aws s3 cp`: HeadObject + GetObject, decrypting with the bucket's key), its uploads of the image (a multipart
 * upload) and the sidecar (PutObject), encrypting, and the agent's upload of the command output. Undefined entries:
 * allowed.
 */
async function instanceDecisions(world: World, command: CommandState, instanceId: string): Promise<InvocationState["iam"]> {
    if (!world.state.deployment.iam || !world.state.behaviour.requireCaptureProfile) return undefined;
    const session = instanceSession(world, command.accountId, command.region, instanceId);
    const param = (name: string): string => command.parameters[name]?.[0] ?? "";
    const bucket = param("Bucket");
    const region = command.region;
    // No instance profile: the script's requests are not signed at all (no IAM decision to list). The agent being
    // online without a profile would mean Default Host Management, whose role the simulator does not model.
    if (!session) return { noCredentials: true };
    // The agent receives the command over its message channel (ec2messages:GetMessages), signed with the
    // credentials it holds, which may be the previous profile's (agentSession).
    const agentCaller = agentSession(world, command.accountId, command.region, instanceId);
    const agentDenied = agentCaller
        ? await firstDenied(world, agentCaller, region, [{ action: "ec2messages:GetMessages", resource: "*", resourceAccount: command.accountId, context: {} }], agentCaller.sourceInstanceArn)
        : undefined;
    const agent: IamDenial | undefined = agentDenied && agentCaller
        ? { atMs: 0, call: "instance:ssm agent (ec2messages:GetMessages)", action: agentDenied.authorization.action, resource: agentDenied.authorization.resource, principal: agentCaller.roleArn, accountId: command.accountId, region, reason: agentDenied.reason }
        : undefined;
    const check = async (operation: string, input: Record<string, unknown>, call: string): Promise<IamDenial | undefined> => {
        const c: CallContext = { service: "s3", operation, action: `s3:${operation}`, accountId: command.accountId, region, caller: session };
        const denied = await firstDenied(world, session, region, await authorizationsFor(world, c, input), session.sourceInstanceArn);
        return denied ? { atMs: 0, call, action: denied.authorization.action, resource: denied.authorization.resource, principal: session.roleArn, accountId: command.accountId, region, reason: denied.reason } : undefined;
    };
    const imageKey = `${param("KeyPrefix")}${param("InstanceId") || instanceId}.lime`;
    const avmlKey = param("AvmlKey");
    const outputKey = `${(command.outputPrefix ?? "").replace(/\/+$/, "")}/${command.commandId}/${instanceId}/${PLUGIN_DIR}/${MEMORY_STEP}/stdout`;
    const fetch = (await check("HeadObject", { Bucket: bucket, Key: avmlKey }, "instance:aws s3 cp (avml)")) ?? (await check("GetObject", { Bucket: bucket, Key: avmlKey }, "instance:aws s3 cp (avml)"));
    // The image goes up as a multipart upload (its three calls each authorized), the sidecar as one PutObject.
    const image = (operation: string) => check(operation, { Bucket: bucket, Key: imageKey }, `instance:aws s3 cp (image: ${operation})`);
    const upload = (await image("CreateMultipartUpload")) ?? (await image("UploadPart")) ?? (await image("CompleteMultipartUpload")) ?? (await check("PutObject", { Bucket: bucket, Key: `${imageKey}.json` }, "instance:aws s3 cp (sidecar: PutObject)"));
    const output = command.outputBucket ? await check("PutObject", { Bucket: command.outputBucket, Key: outputKey }, "instance:ssm agent output upload") : undefined;
    return { ...(fetch ? { fetch } : {}), ...(upload ? { upload } : {}), ...(output ? { output } : {}), ...(agent ? { agent } : {}) };
}

const sendCommand: Handler<SendCommandCommandInput, Promise<Out<SendCommandCommandOutput>>> = async (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    const documentName = required(world, ctx, input.DocumentName, "DocumentName");
    if (input.Targets !== undefined) throw notImplemented(ctx.action, "with Targets");
    const doc = r.documents[documentName];
    if (!doc) {
        if (documentName.startsWith("AWS-")) throw notImplemented(ctx.action, `with document ${documentName} (only the memory-capture document runs)`);
        throw world.error(ctx, "InvalidDocument", `Document with name ${documentName} does not exist.`);
    }
    const instanceIds = required(world, ctx, input.InstanceIds, "InstanceIds");
    if (instanceIds.length === 0) throw world.error(ctx, "ValidationException", "InstanceIds must not be empty");
    const instances = instanceIds.map((id) => {
        const instance = r.instances[id];
        if (!instance || instance.ssmPingStatus === undefined || instance.state === "terminated") {
            throw world.error(ctx, "InvalidInstanceId", `Instances [[${id}]] not in a valid state for account ${ctx.accountId}`);
        }
        return instance;
    });
    if (instances.some((i) => !doc.platformTypes.includes(platformType(i)))) {
        throw world.error(ctx, "UnsupportedPlatformType", "The document does not support the platform type of the given instance ID(s).");
    }
    const parameters = validateParameters(world, ctx, doc, (input.Parameters ?? {}) as Record<string, unknown>);
    const timeoutSeconds = input.TimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
        throw world.error(ctx, "ValidationException", "TimeoutSeconds must be between 30 and 2592000");
    }
    const now = world.now();
    const behaviour = world.state.behaviour;
    const command: CommandState = {
        commandId: world.uuid("ssm-command"),
        documentName,
        comment: input.Comment ?? "",
        parameters,
        outputBucket: input.OutputS3BucketName,
        outputPrefix: input.OutputS3KeyPrefix,
        timeoutSeconds,
        requestedAt: now,
        accountId: ctx.accountId,
        region: ctx.region,
        invocations: {},
    };
    for (const instance of instances) {
        const online = pingStatus(r, instance) === "Online";
        command.invocations[instance.instanceId] = {
            instanceId: instance.instanceId,
            status: "Pending",
            statusDetails: "Pending",
            responseCode: -1,
            stdout: "",
            stderr: "",
            // An agent that is not connected never picks the command up: it times out undelivered.
            dueAt: online ? now + behaviour.memoryDurationMs : now + timeoutSeconds * 1000,
            done: false,
        };
    }
    for (const instance of instances) {
        const decisions = await instanceDecisions(world, command, instance.instanceId);
        const invocation = command.invocations[instance.instanceId] as InvocationState;
        if (decisions) invocation.iam = decisions;
        if (decisions?.agent) {
            // Refused, the agent backs off and only then fetches the credentials of the profile it has now: the
            // command waits for that (it still shows Online meanwhile).
            deny(world, decisions.agent);
            invocation.dueAt += AGENT_ACCESS_DENIED_BACKOFF_MS;
        }
    }
    r.commands[command.commandId] = command;
    return {
        Command: {
            CommandId: command.commandId,
            DocumentName: documentName,
            DocumentVersion: "$DEFAULT",
            Comment: input.Comment ?? "",
            Parameters: parameters,
            InstanceIds: [...instanceIds],
            Targets: [],
            RequestedDateTime: new Date(now),
            ExpiresAfter: new Date(now + timeoutSeconds * 1000),
            Status: "Pending",
            StatusDetails: "Pending",
            OutputS3Region: ctx.region,
            OutputS3BucketName: input.OutputS3BucketName,
            OutputS3KeyPrefix: input.OutputS3KeyPrefix,
            MaxConcurrency: "50",
            MaxErrors: "0",
            TargetCount: instanceIds.length,
            CompletedCount: 0,
            ErrorCount: 0,
            DeliveryTimedOutCount: 0,
            TimeoutSeconds: timeoutSeconds,
        },
    };
};

function finish(invocation: InvocationState, status: string, details: string, code: number, stdout: string, stderr: string, at: number): void {
    Object.assign(invocation, { status, statusDetails: details, responseCode: code, stdout, stderr, finishedAt: at, done: true });
}

function outputKey(command: CommandState, instanceId: string, stream: "stdout" | "stderr"): string {
    const prefix = (command.outputPrefix ?? "").replace(/\/+$/, "");
    return `${prefix ? `${prefix}/` : ""}${command.commandId}/${instanceId}/${PLUGIN_DIR}/${MEMORY_STEP}/${stream}`;
}

/** Write the plugin output to S3 like the agent does (silently skipped if the bucket is unusable). */
function writeOutput(world: World, command: CommandState, invocation: InvocationState): void {
    const bucket = command.outputBucket ? world.state.buckets[command.outputBucket] : undefined;
    if (!bucket || bucket.region !== command.region) return;
    // The agent's upload as the instance's role: denied, the output stays on the instance (the agent logs it).
    if (invocation.iam?.output) {
        deny(world, invocation.iam.output);
        return;
    }
    if (invocation.stdout) putVersion(world, bucket, outputKey(command, invocation.instanceId, "stdout"), Buffer.from(invocation.stdout, "utf8"), { contentType: "text/plain" });
    if (invocation.stderr) putVersion(world, bucket, outputKey(command, invocation.instanceId, "stderr"), Buffer.from(invocation.stderr, "utf8"), { contentType: "text/plain" });
}

/** `date -u +%Y-%m-%dT%H:%M:%SZ`, as the capture script writes times. */
function scriptTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A copy of `part` with its first bit flipped (the original Buffer is never written: it may be shared). */
function flipFirstBit(part: Buffer): Buffer {
    const copy = Buffer.from(part);
    copy[0] = (copy[0] ?? 0) ^ 1;
    return copy;
}

/** What the memory-capture document (capture.sh) does on the instance, in the script's order. */
function runMemoryCapture(world: World, r: RegionState, command: CommandState, invocation: InvocationState): void {
    const at = invocation.dueAt;
    const instance = r.instances[invocation.instanceId];
    const behaviour = world.state.behaviour;
    invocation.startedAt = command.requestedAt;
    if (!instance || instance.state === "terminated") {
        finish(invocation, "Failed", "Undeliverable", -1, "", "", at);
        return;
    }
    const fail = (code: number, stderr: string): void => {
        finish(invocation, "Failed", "Failed", code, "", stderr, at);
        writeOutput(world, command, invocation);
        world.event("memory-capture-failed", `${invocation.instanceId}: exit ${code}: ${stderr.trim().split("\n").at(-1) ?? ""}`, at);
    };
    const param = (name: string): string => command.parameters[name]?.[0] ?? "";
    const bucketName = param("Bucket");
    const prefix = param("KeyPrefix");
    const avmlKey = param("AvmlKey");
    const region = param("Region") || command.region;
    const imageInstanceId = param("InstanceId") || invocation.instanceId;
    const cannotFetch = (why: string): void =>
        fail(CAPTURE_EXIT_CODES.avmlDownloadFailed, `fatal error: ${why}\ncapture: cannot fetch s3://${bucketName}/${avmlKey}\n`);

    // 2. Fetch avml (an isolated instance reaches only its own region's S3, through the gateway endpoint).
    const bucket = world.state.buckets[bucketName];
    if (!bucket) return cannotFetch("An error occurred (NoSuchBucket) when calling the HeadObject operation: The specified bucket does not exist");
    if (bucket.region !== region || bucket.region !== command.region) {
        return cannotFetch(`Could not connect to the endpoint URL: "https://${bucketName}.s3.${region}.amazonaws.com/${avmlKey}" (bucket in ${bucket.region}, instance in ${command.region})`);
    }
    if (invocation.iam?.noCredentials) {
        return cannotFetch("Unable to locate credentials. You can configure credentials by running \"aws configure\". (the instance has no instance profile)");
    }
    if (invocation.iam?.fetch) {
        deny(world, invocation.iam.fetch);
        return cannotFetch(`An error occurred (403) when calling the HeadObject operation: Forbidden (${invocation.iam.fetch.principal}: ${invocation.iam.fetch.reason})`);
    }
    // States saved before IAM was modelled: the profile must be the capture profile.
    if (behaviour.requireCaptureProfile && !world.state.deployment.iam) {
        const association = instance.associationId ? r.profileAssociations[instance.associationId] : undefined;
        const capture = world.state.deployment.captureProfileArns[command.accountId];
        if (!association || association.profileArn !== capture) {
            return cannotFetch(`An error occurred (403) when calling the HeadObject operation: Forbidden (instance profile ${association?.profileArn ?? "none"} is not the capture profile)`);
        }
    }
    const avml = bucket.objects[avmlKey]?.at(-1);
    if (!avml || avml.deleteMarker || !avml.body || avml.size === 0) {
        return cannotFetch("An error occurred (404) when calling the HeadObject operation: Key \"" + avmlKey + "\" does not exist");
    }
    const avmlSha256 = sha256Hex(avml.body);
    const expected = param("AvmlSha256");
    if (expected !== avmlSha256) {
        return fail(CAPTURE_EXIT_CODES.avmlHashMismatch, `capture: avml sha256 ${avmlSha256} differs from the pinned ${expected}; not running it\n`);
    }
    // Only this machine's build runs: the script compares the ELF header's e_machine with `uname -m` (aarch64 on a
    // Graviton instance, whose DescribeInstances Architecture is arm64) and refuses another machine's build, which
    // the kernel would refuse anyway (execve: ENOEXEC, "Exec format error").
    const machine = instance.architecture === "arm64" ? "aarch64" : "x86_64";
    const built = elfMachine(avml.body);
    if (built !== machine) {
        return fail(CAPTURE_EXIT_CODES.avmlWrongArchitecture, `capture: s3://${bucketName}/${avmlKey} is not the ${machine} build of avml (ELF machine ${built ?? "unknown"}); not running it\n`);
    }
    // 3. Stream avml -> hash, count, upload.
    if (behaviour.avmlFails) {
        return fail(CAPTURE_EXIT_CODES.avmlFailed, "capture: avml failed (exit 1); upload aborted (simulated avml-fails scenario)\n");
    }
    // The simulated host's MemTotal is its image's size (a real LiME image is a little larger). The script fixes the
    // part size from it and writes it to the CLI's config; `aws s3 cp -` cuts the stream into its chunks
    // (s3transfer's ChunksizeAdjuster over --expected-size), which keeps that size (core/memoryParts.ts). The image
    // is held as those parts, identical ones sharing a Buffer, so hundreds of GiB fit in memory.
    const partSize = capturePartSize(behaviour.memoryBytes);
    const chunk = s3transferChunksize(partSize, captureExpectedSize(behaviour.memoryBytes));
    const uploaded = memoryImageParts(`${world.state.seed}:memory:${invocation.instanceId}:${command.commandId}`, behaviour.memoryBytes, chunk);
    const imageBytes = uploaded.reduce((n, p) => n + p.length, 0);
    // What the script's hashing branches read: the stream itself. memory-hash-mismatch: they read one bit other than
    // what went to the upload (a faulty tee, a tampered sha256sum): the CLI checksums each part from the bytes it
    // sends, so S3 accepts every part (BadDigest only catches damage between the CLI and S3), and only the memory
    // step's comparison of the instance's part digests with S3's can tell.
    const hashed = behaviour.memoryHashMismatch ? [flipFirstBit(uploaded[0] as Buffer), ...uploaded.slice(1)] : uploaded;
    // sha256sum on its tee branch: the whole image, hashed for real (a 256 GiB image takes minutes); split --filter:
    // each part's sha256, in order.
    const sha256 = concatSha256(hashed);
    const partDigests = hashed.map((part) => bufferDigest(part, "sha256").toString("hex"));
    const imageKey = `${prefix}${imageInstanceId}.lime`;
    if (invocation.iam?.upload) {
        deny(world, invocation.iam.upload);
        const operation = /: (\w+)\)$/.exec(invocation.iam.upload.call)?.[1] ?? "PutObject";
        return fail(CAPTURE_EXIT_CODES.uploadFailed, `upload failed: An error occurred (AccessDenied) when calling the ${operation} operation: Access Denied (${invocation.iam.upload.principal}: ${invocation.iam.upload.reason})\ncapture: upload of s3://${bucketName}/${imageKey} failed\n`);
    }
    const summary = {
        sha256,
        bytes: imageBytes,
        avmlSha256,
        instanceId: imageInstanceId,
        startedAt: scriptTime(command.requestedAt),
        finishedAt: scriptTime(at),
        partSize,
        partCount: partDigests.length,
    };
    // `aws s3 cp - ... --checksum-algorithm SHA256`: every part sent with the SHA-256 the CLI computed from it.
    const upload = new MultipartUpload(world, bucket, imageKey, { checksumAlgorithm: "SHA256" });
    uploaded.forEach((part, i) => upload.uploadPart(i + 1, part, bufferDigest(part, "sha256").toString("base64")));
    upload.complete();
    putVersion(world, bucket, `${imageKey}.json`, Buffer.from(`${JSON.stringify({ ...summary, parts: partDigests })}\n`, "utf8"), { contentType: "application/json" });
    const sidecar = JSON.stringify(summary);
    // The script prints the sidecar without its part list (aws --only-show-errors); padding stands for a noisier
    // document.
    const padding: string[] = [];
    for (let n = 0, i = 0; n < behaviour.stdoutPaddingBytes; i++) {
        const line = `progress ${i}: ${Math.min(imageBytes, (i + 1) * 1048576)} bytes streamed\n`;
        padding.push(line);
        n += line.length;
    }
    finish(invocation, "Success", "Success", CAPTURE_EXIT_CODES.ok, `${padding.join("")}${sidecar}\n`, "", at);
    writeOutput(world, command, invocation);
    world.event("memory-captured", `${invocation.instanceId}: s3://${bucketName}/${imageKey} (${imageBytes} bytes)`, at);
}

/** List a denial of the instance's own call when it is made (the invocation falls due). */
function deny(world: World, denial: IamDenial): void {
    world.iamDenied.push({ ...denial, atMs: world.elapsedWall() });
}

/** Apply every invocation whose time has come (called before each simulated call and by views). */
export function settleCommands(world: World): void {
    const now = world.now();
    for (const { state: r } of world.allRegions()) {
        for (const command of Object.values(r.commands)) {
            for (const invocation of Object.values(command.invocations)) {
                if (invocation.done || invocation.dueAt > now) continue;
                const instance = r.instances[invocation.instanceId];
                const delivered = (instance !== undefined && pingStatus(r, instance) === "Online") || invocation.dueAt < command.requestedAt + command.timeoutSeconds * 1000;
                if (!delivered) {
                    finish(invocation, "TimedOut", "DeliveryTimedOut", -1, "", "", invocation.dueAt);
                    world.event("command-timed-out", `${command.commandId} on ${invocation.instanceId}: never delivered (agent not connected)`, invocation.dueAt);
                } else runMemoryCapture(world, r, command, invocation);
            }
        }
    }
}

/**
 * An invocation's status as SSM reports it now: a finished one's own; an unfinished one on a connected agent is
 * Pending for the first tenth of its run, then InProgress; on an agent that is not connected, Pending until it
 * times out undelivered.
 */
function invocationStatus(r: RegionState, command: CommandState, invocation: InvocationState, now: number): { status: string; details: string } {
    const instance = r.instances[invocation.instanceId];
    if (invocation.done || instance === undefined || pingStatus(r, instance) !== "Online") {
        return { status: invocation.status, details: invocation.statusDetails };
    }
    const started = now >= command.requestedAt + (invocation.dueAt - command.requestedAt) / 10;
    const status = started ? "InProgress" : "Pending";
    return { status, details: status };
}

const getCommandInvocation: Handler<GetCommandInvocationCommandInput, Out<GetCommandInvocationCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    const commandId = required(world, ctx, input.CommandId, "CommandId");
    const instanceId = required(world, ctx, input.InstanceId, "InstanceId");
    const command = r.commands[commandId];
    const invocation = command?.invocations[instanceId];
    if (!command || !invocation) throw world.error(ctx, "InvocationDoesNotExist", "");
    if (input.PluginName !== undefined && input.PluginName !== MEMORY_STEP) throw world.error(ctx, "InvalidPluginName", "");
    const { status, details } = invocationStatus(r, command, invocation, world.now());
    const url = (stream: "stdout" | "stderr"): string =>
        command.outputBucket ? `https://s3.${command.region}.amazonaws.com/${command.outputBucket}/${outputKey(command, instanceId, stream)}` : "";
    const elapsed = invocation.finishedAt !== undefined && invocation.startedAt !== undefined ? invocation.finishedAt - invocation.startedAt : undefined;
    return {
        CommandId: commandId,
        InstanceId: instanceId,
        Comment: "",
        DocumentName: command.documentName,
        DocumentVersion: "1",
        PluginName: MEMORY_STEP,
        ResponseCode: invocation.responseCode,
        ExecutionStartDateTime: invocation.startedAt !== undefined ? new Date(invocation.startedAt).toISOString() : "",
        ExecutionElapsedTime: elapsed !== undefined ? `PT${(elapsed / 1000).toFixed(3)}S` : "",
        ExecutionEndDateTime: invocation.finishedAt !== undefined ? new Date(invocation.finishedAt).toISOString() : "",
        Status: status as GetCommandInvocationCommandOutput["Status"],
        StatusDetails: details,
        StandardOutputContent: invocation.stdout.slice(0, STDOUT_LIMIT),
        StandardOutputUrl: url("stdout"),
        StandardErrorContent: invocation.stderr.slice(0, STDERR_LIMIT),
        StandardErrorUrl: url("stderr"),
        CloudWatchOutputConfig: { CloudWatchLogGroupName: "", CloudWatchOutputEnabled: false },
    };
};

/** ListCommands' filter keys (the API's enum); the ones this model does not evaluate are a simulator gap. */
const COMMAND_FILTER_KEYS = ["InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName"];
/** ListCommands' page size: 1..50, 50 when not given. */
const LIST_COMMANDS_MAX_RESULTS = 50;

/**
 * A command's overall status from its invocations' (as {@link invocationStatus} derives each): Pending while none
 * has started, InProgress while any runs, then Success when all succeeded, else the first non-success of
 * Failed, TimedOut, Cancelled (SSM's MaxErrors is 0 for our commands: one failed target fails the command).
 */
function commandStatus(r: RegionState, command: CommandState, now: number): { status: string; details: string; completed: number; errors: number; deliveryTimedOut: number } {
    const each = Object.values(command.invocations).map((invocation) => ({ invocation, ...invocationStatus(r, command, invocation, now) }));
    const completed = each.filter((e) => e.invocation.done).length;
    const errors = each.filter((e) => e.invocation.done && e.status !== "Success" && e.details !== "DeliveryTimedOut").length;
    const deliveryTimedOut = each.filter((e) => e.details === "DeliveryTimedOut").length;
    const counts = { completed, errors, deliveryTimedOut };
    if (each.some((e) => e.status === "InProgress")) return { status: "InProgress", details: "InProgress", ...counts };
    if (each.some((e) => e.status === "Pending")) {
        const any = each.some((e) => e.status !== "Pending");
        return { status: any ? "InProgress" : "Pending", details: any ? "InProgress" : "Pending", ...counts };
    }
    if (each.every((e) => e.status === "Success")) return { status: "Success", details: "Success", ...counts };
    for (const status of ["Failed", "TimedOut", "Cancelled"]) {
        const hit = each.find((e) => e.status === status);
        if (hit) return { status, details: hit.details === "DeliveryTimedOut" ? "DeliveryTimedOut" : status, ...counts };
    }
    return { status: "Failed", details: "Failed", ...counts };
}

/** A filter's timestamp (ISO 8601, e.g. 2024-07-07T00:00:00Z), or the service's validation error. */
function filterTime(world: World, ctx: CallContext, key: string, value: string): number {
    const at = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) throw world.error(ctx, "ValidationException", `Filter ${key} value "${value}" is not a timestamp (e.g. 2024-07-07T00:00:00Z)`);
    return at;
}

/**
 * ListCommands, for what the memory step uses: filters DocumentName, InvokedAfter (requested at or after) and
 * InvokedBefore (requested before), all of them applying; optional CommandId; MaxResults 1..50 (default 50) with
 * NextToken paging. Status / ExecutionStage filters and InstanceId are not modelled (a simulator gap).
 * Order: newest first (by RequestedDateTime, then the later command first). AWS's API reference does not document
 * the order; the memory function does not rely on it (it picks the newest match itself).
 * An unknown (well-formed) CommandId lists nothing; the real service may answer InvalidCommandId instead.
 */
const listCommands: Handler<ListCommandsCommandInput, Out<ListCommandsCommandOutput>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    if (input.InstanceId !== undefined) throw notImplemented(ctx.action, "with InstanceId");
    const maxResults = input.MaxResults ?? LIST_COMMANDS_MAX_RESULTS;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > LIST_COMMANDS_MAX_RESULTS) {
        throw world.error(ctx, "ValidationException", `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${LIST_COMMANDS_MAX_RESULTS}`);
    }
    const filters = input.Filters ?? [];
    if (input.Filters !== undefined && (filters.length < 1 || filters.length > 5)) {
        throw world.error(ctx, "ValidationException", `1 validation error detected: Value at 'filters' failed to satisfy constraint: Member must have length between 1 and 5, got ${filters.length}`);
    }
    let commands = Object.values(r.commands).map((command, order) => ({ command, order }));
    if (input.CommandId !== undefined) {
        if (input.CommandId.length !== 36) throw world.error(ctx, "InvalidCommandId", `Invalid command id ${input.CommandId}`);
        commands = commands.filter((c) => c.command.commandId === input.CommandId);
    }
    for (const filter of filters) {
        const key = filter.key ?? "";
        const value = filter.value ?? "";
        if (!COMMAND_FILTER_KEYS.includes(key)) {
            throw world.error(ctx, "ValidationException", `1 validation error detected: Value '${key}' at 'filters.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${COMMAND_FILTER_KEYS.join(", ")}]`);
        }
        if (value.length < 1 || value.length > 128) {
            throw world.error(ctx, "ValidationException", `Filter ${key} value must be 1 to 128 characters long`);
        }
        if (key === "DocumentName") commands = commands.filter((c) => c.command.documentName === value);
        else if (key === "InvokedAfter") {
            const at = filterTime(world, ctx, key, value);
            commands = commands.filter((c) => c.command.requestedAt >= at);
        } else if (key === "InvokedBefore") {
            const at = filterTime(world, ctx, key, value);
            commands = commands.filter((c) => c.command.requestedAt < at);
        } else throw notImplemented(ctx.action, `filter "${key}"`);
    }
    commands.sort((a, b) => b.command.requestedAt - a.command.requestedAt || b.order - a.order);
    const start = listPageIndex(world, ctx, input.NextToken);
    const page = commands.slice(start, start + maxResults);
    const now = world.now();
    const view = (command: CommandState): Command => {
        const status = commandStatus(r, command, now);
        const instanceIds = Object.keys(command.invocations);
        return {
            CommandId: command.commandId,
            DocumentName: command.documentName,
            DocumentVersion: "$DEFAULT",
            Comment: command.comment ?? "",
            ExpiresAfter: new Date(command.requestedAt + command.timeoutSeconds * 1000),
            Parameters: Object.fromEntries(Object.entries(command.parameters).map(([k, v]) => [k, [...v]])),
            InstanceIds: instanceIds,
            Targets: [],
            RequestedDateTime: new Date(command.requestedAt),
            Status: status.status as Command["Status"],
            StatusDetails: status.details,
            OutputS3Region: command.region,
            OutputS3BucketName: command.outputBucket ?? "",
            OutputS3KeyPrefix: command.outputPrefix ?? "",
            MaxConcurrency: "50",
            MaxErrors: "0",
            TargetCount: instanceIds.length,
            CompletedCount: status.completed,
            ErrorCount: status.errors,
            DeliveryTimedOutCount: status.deliveryTimedOut,
            TimeoutSeconds: command.timeoutSeconds,
        };
    };
    const next = start + maxResults < commands.length ? listPageToken(start + maxResults) : undefined;
    return { Commands: page.map((c) => view(c.command)), ...(next !== undefined ? { NextToken: next } : {}) };
};

function listPageToken(index: number): string {
    return Buffer.from(`sim:commands:${index}`).toString("base64");
}

function listPageIndex(world: World, ctx: CallContext, token: string | undefined): number {
    if (token === undefined) return 0;
    const match = /^sim:commands:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
    if (!match) throw world.error(ctx, "InvalidNextToken", `The specified token "${token}" isn't valid.`);
    return Number(match[1]);
}

const cancelCommand: Handler<CancelCommandCommandInput, Record<string, never>> = (world, ctx, input) => {
    const r = world.region(ctx.accountId, ctx.region);
    const commandId = required(world, ctx, input.CommandId, "CommandId");
    const command = r.commands[commandId];
    if (!command) throw world.error(ctx, "InvalidCommandId", "");
    const now = world.now();
    for (const invocation of Object.values(command.invocations)) {
        if (invocation.done || (input.InstanceIds && !input.InstanceIds.includes(invocation.instanceId))) continue;
        finish(invocation, "Cancelled", "Cancelled", -1, "", "", now);
        world.event("command-cancelled", `${commandId} on ${invocation.instanceId}`, now);
    }
    return {};
};

/** The deployment's staged avml build (bytes and hash) for a seed. */
export function stagedAvml(seed: string, build: AvmlBuild = "x86_64"): { bytes: Buffer; sha256: string } {
    const bytes = fakeAvml(seed, build);
    return { bytes, sha256: sha256Hex(bytes) };
}

export const SSM_HANDLERS: Record<string, Handler> = {
    DescribeInstanceInformation: describeInstanceInformation,
    SendCommand: sendCommand,
    GetCommandInvocation: getCommandInvocation,
    ListCommands: listCommands,
    CancelCommand: cancelCommand,
};

/** SNS Publish: messages are recorded on the world (the drill's notify states read them). */
export function publishMessage(world: World, ctx: CallContext, input: { TopicArn?: string; Subject?: string; Message?: string; TargetArn?: string; PhoneNumber?: string }): { MessageId: string } {
    if (input.TargetArn !== undefined || input.PhoneNumber !== undefined) throw notImplemented(ctx.action, "to a TargetArn / PhoneNumber");
    const topicArn = required(world, ctx, input.TopicArn, "TopicArn");
    const message = required(world, ctx, input.Message, "Message");
    if (!world.region(ctx.accountId, ctx.region).topics[topicArn]) throw world.error(ctx, "NotFound", "Topic does not exist", 404);
    if (input.Subject !== undefined && (input.Subject.length === 0 || input.Subject.length > 100 || /[\r\n]/.test(input.Subject))) {
        throw world.error(ctx, "InvalidParameter", "Invalid parameter: Subject");
    }
    if (Buffer.byteLength(message) > 256 * 1024) throw world.error(ctx, "InvalidParameter", "Invalid parameter: Message too long");
    const messageId = world.uuid("sns-message");
    world.state.notifications.push({ atMs: world.elapsedWall(), topicArn, subject: input.Subject, message, messageId });
    return { MessageId: messageId };
}

export const SNS_HANDLERS: Record<string, Handler> = {
    Publish: (world, ctx, input) => publishMessage(world, ctx, input as { TopicArn?: string; Subject?: string; Message?: string }),
};
