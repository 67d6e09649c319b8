/**
 * Lambda entry point of the memory evidence branch.
 *
 * Event `{action: "start", caseId, target, instance, evidence: {bucket, prefix}}` -> `{status: "started",
 * commandId, deadline, startedAt}` or `{status: "missing", reason}`; event `{action: "check", ..., memory}` -> the
 * same memory (still running), `{..., status: "missing", reason}` or `{..., status: "captured", object, hostSha256,
 * partSize, partCount, partsSha256}` (verified from S3's part checksums, core/memoryParts.ts).
 * Throws HashMismatchError / MemoryCaptureFailedError / InvalidRequestError / ConfigurationError by name.
 * Environment (read per invocation): MEMORY_DOCUMENT (required), AVML_KEY + AVML_SHA256 (both or neither; neither:
 * memory is reported missing "avml-not-configured"), MEMORY_CAP_SECONDS (default 10800).
 */
import { MEMORY_PARAMETER_PATTERNS } from "../../core/ssmDocument";
import { ENV } from "../../core/workflow";
import { client } from "../lib/aws";
import {
    errorData,
    hubTarget,
    log,
    logKeys,
    memberTarget,
    positiveIntegerFromEnv,
    requiredFromEnv,
    type InvocationContext,
} from "../lib/evidence";
import { ConfigurationError } from "../lib/evidenceErrors";
import {
    checkMemoryCapture,
    DEFAULT_MEMORY_CAP_SECONDS,
    parseMemoryEvent,
    startMemoryCapture,
    type MemoryResult,
    type MemorySettings,
} from "./memory";

export type { MemoryCheckEvent, MemoryEvent, MemoryResult, MemoryStartEvent } from "./memory";

/**
 * The memory step's configuration, from the environment; every problem names its variable. AVML_KEY and
 * AVML_SHA256 are optional together (no avml staged: memory is reported missing), but one without the other, or
 * a malformed hash, is a deployment error.
 */
export function memorySettingsFromEnv(env: NodeJS.ProcessEnv, now: () => Date = () => new Date()): MemorySettings {
    const key = env[ENV.avmlKey]?.trim() || undefined;
    const sha256 = env[ENV.avmlSha256]?.trim().toLowerCase() || undefined;
    if (key !== undefined && sha256 === undefined) throw new ConfigurationError(ENV.avmlSha256, `is not set while ${ENV.avmlKey} is`);
    if (sha256 !== undefined && key === undefined) throw new ConfigurationError(ENV.avmlKey, `is not set while ${ENV.avmlSha256} is`);
    if (sha256 !== undefined && !new RegExp(MEMORY_PARAMETER_PATTERNS.AvmlSha256).test(sha256)) {
        throw new ConfigurationError(ENV.avmlSha256, "must be a sha256 in hex (64 digits)");
    }
    if (key !== undefined && !new RegExp(MEMORY_PARAMETER_PATTERNS.AvmlKey).test(key)) {
        throw new ConfigurationError(ENV.avmlKey, `must match the capture document's pattern ${MEMORY_PARAMETER_PATTERNS.AvmlKey}`);
    }
    return {
        documentName: requiredFromEnv(env, ENV.memoryDocument),
        ...(key !== undefined && sha256 !== undefined ? { avml: { key, sha256 } } : {}),
        capSeconds: positiveIntegerFromEnv(env, ENV.memoryCapSeconds, DEFAULT_MEMORY_CAP_SECONDS),
        now,
    };
}

export async function handler(event: unknown, context?: InvocationContext): Promise<MemoryResult> {
    const keys = logKeys(event, context);
    try {
        const settings = memorySettingsFromEnv(process.env);
        const request = parseMemoryEvent(event);
        const clients = { ssm: client("ssm", memberTarget(request.target)), s3: client("s3", hubTarget(request.target)) };
        const result =
            request.action === "start" ? await startMemoryCapture(clients, request, settings) : await checkMemoryCapture(clients, request, settings);
        log("INFO", `memory ${result.status}`, { ...keys, memory: result });
        return result;
    } catch (error) {
        log("ERROR", "memory evidence step failed", { ...keys, error: errorData(error) });
        throw error;
    }
}
