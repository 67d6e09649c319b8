/**
 * Lambda entry point of the memory evidence branch.
 *
 * Event `{action: "start", caseId, target, instance, evidence: {bucket, prefix}}` -> `{status: "started",
 * commandId, deadline, startedAt}` or `{status: "missing", reason}`; event `{action: "check", ..., memory}` -> the
 * same memory (still running), `{..., status: "missing", reason}` or `{..., status: "captured", object, hostSha256,
 * partSize, partCount, partsSha256}` (verified from S3's part checksums, core/memoryParts.ts).
 * Throws HashMismatchError / MemoryCaptureFailedError / InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): MEMORY_DOCUMENT (required), per avml build AVML_X86_64_KEY + AVML_X86_64_SHA256
 * and AVML_AARCH64_KEY + AVML_AARCH64_SHA256 (each pair both or neither; an instance whose build is not staged: memory
 * is reported missing "avml-not-configured"), MEMORY_CAP_SECONDS (default 10800).
 */
import { AVML_BUILDS, AVML_ENV, AVML_VERSION, RETIRED_AVML_ENV, type StagedAvmlBuilds } from "../../core/avml";
import { MEMORY_PARAMETER_PATTERNS } from "../../core/ssmDocument";
import { ENV } from "../../core/workflow";
import { s3Client, ssmClient } from "../lib/aws";
import {
    hubTarget,
    logKeys,
    memberTarget,
    pollSecondsOfEvent,
    positiveIntegerFromEnv,
    requiredFromEnv,
} from "../lib/evidence";
import { errorData, invocationLogger, type InvocationContext } from "../lib/log";
import { ConfigurationError } from "../lib/evidenceErrors";
import {
    checkMemoryCapture,
    DEFAULT_MEMORY_CAP_SECONDS,
    parseMemoryEvent,
    startMemoryCapture,
    type MemoryResult,
    type MemorySettings,
} from "./memory";
import { now as clockNow } from "../lib/clock";
import { DEFAULT_POLL_SECONDS } from "../../core/definition";
import { withNextPoll } from "../../core/polling";

export type { MemoryCheckEvent, MemoryEvent, MemoryResult, MemoryStartEvent } from "./memory";

/**
 * The memory step's configuration, from the environment; every problem names its variable. Each avml build
 * (AVML_X86_64_KEY + AVML_X86_64_SHA256, AVML_AARCH64_KEY + AVML_AARCH64_SHA256) is optional as a pair (a build
 * not staged: memory of that architecture's instances is reported missing), but a key without its hash, a malformed
 * one, or the single AVML_KEY / AVML_SHA256 of a v0.11.0 deployment is a deployment error.
 */
export function memorySettingsFromEnv(env: NodeJS.ProcessEnv, now: () => Date = clockNow): MemorySettings {
    for (const retired of RETIRED_AVML_ENV) {
        if (env[retired]?.trim()) {
            throw new ConfigurationError(retired, `is no longer read: avml ${AVML_VERSION} is staged per architecture as ${AVML_BUILDS.map((b) => `${AVML_ENV[b].key} + ${AVML_ENV[b].sha256}`).join(" and ")} (redeploy)`);
        }
    }
    const avml: StagedAvmlBuilds = {};
    for (const build of AVML_BUILDS) {
        const names = AVML_ENV[build];
        const key = env[names.key]?.trim() || undefined;
        const sha256 = env[names.sha256]?.trim().toLowerCase() || undefined;
        if (key !== undefined && sha256 === undefined) throw new ConfigurationError(names.sha256, `is not set while ${names.key} is`);
        if (sha256 !== undefined && key === undefined) throw new ConfigurationError(names.key, `is not set while ${names.sha256} is`);
        if (key === undefined || sha256 === undefined) continue;
        if (!new RegExp(MEMORY_PARAMETER_PATTERNS.AvmlSha256).test(sha256)) throw new ConfigurationError(names.sha256, "must be a sha256 in hex (64 digits)");
        if (!new RegExp(MEMORY_PARAMETER_PATTERNS.AvmlKey).test(key)) {
            throw new ConfigurationError(names.key, `must match the capture document's pattern ${MEMORY_PARAMETER_PATTERNS.AvmlKey}`);
        }
        avml[build] = { key, sha256 };
    }
    return {
        documentName: requiredFromEnv(env, ENV.memoryDocument),
        avml,
        capSeconds: positiveIntegerFromEnv(env, ENV.memoryCapSeconds, DEFAULT_MEMORY_CAP_SECONDS),
        now,
    };
}

export async function handler(event: unknown, context?: InvocationContext): Promise<MemoryResult> {
    const logger = invocationLogger(logKeys(event), context);
    try {
        const settings = memorySettingsFromEnv(process.env);
        const pollSeconds = pollSecondsOfEvent(event, DEFAULT_POLL_SECONDS.memory);
        const request = parseMemoryEvent(event);
        const clients = { ssm: ssmClient(memberTarget(request.target)), s3: s3Client(hubTarget(request.target)) };
        const stepped =
            request.action === "start" ? await startMemoryCapture(clients, request, settings) : await checkMemoryCapture(clients, request, settings);
        const now = settings.now();
        const clock = { startedAt: stepped.startedAt ?? now.toISOString(), deadline: stepped.deadline ?? now.toISOString() };
        const result: MemoryResult = stepped.status === "started" ? withNextPoll({ ...stepped, ...clock }, true, now, pollSeconds) : stepped;
        logger.info(`memory ${result.status}`, { memory: result });
        return result;
    } catch (error) {
        logger.error("memory evidence step failed", { error: errorData(error) });
        throw error;
    }
}
