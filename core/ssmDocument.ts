/**
 * The project-owned SSM Command document that captures an instance's memory: parameters, patterns, exit codes
 * and object layout — the contract between the document, its shell script (`functions/memory/capture.sh`, which
 * runs on the instance) and the memory function that sends the command and checks its result.
 *
 * Pure except `readCaptureScript` (one file read). The ResponseWorkflow component creates the document from
 * `memoryCaptureDocument(readCaptureScript())`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { AVML_VERSION } from "./avml";
import { casePrefix } from "./workflow";

export { AVML_VERSION };

/** Document parameter names, in the order the script checks them. */
export const MEMORY_DOCUMENT_PARAMETERS = ["Bucket", "KeyPrefix", "AvmlKey", "AvmlSha256", "Region", "InstanceId"] as const;

/** One document parameter name. */
export type MemoryDocumentParameter = (typeof MEMORY_DOCUMENT_PARAMETERS)[number];

/**
 * Each parameter's pattern: the document's `allowedPattern` and, as the same text, the script's own check
 * (`RE_*` in capture.sh; a test keeps them equal). SSM substitutes `{{ Param }}` textually into the script, so
 * these patterns are what makes injection impossible: none admits a quote, space, `$`, `;`, backslash or newline.
 * Only anchors, bracket classes, groups, alternation and counted repetition: POSIX ERE (bash `=~`), JavaScript and
 * SSM's allowedPattern read them alike.
 */
export const MEMORY_PARAMETER_PATTERNS: Readonly<Record<MemoryDocumentParameter, string>> = {
    /** S3 bucket naming rules (3-63 of lower-case letters, digits, dots, hyphens; alphanumeric at both ends). */
    Bucket: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    /** `cases/<caseId>/memory/`; the case id starts alphanumeric, so `.` and `..` cannot be a case. */
    KeyPrefix: "^cases/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/memory/$",
    /** The staged build for the instance's machine, under `tools/` (e.g. `tools/avml-aarch64-<sha256 prefix>`). */
    AvmlKey: "^tools/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    /** sha256, 64 lower-case hex (what `sha256sum` prints). */
    AvmlSha256: "^[0-9a-f]{64}$",
    /** us-east-1, us-gov-west-1, ap-southeast-4, eusc-de-east-1... */
    Region: "^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$",
    /** Same shape as core/triage.ts INSTANCE_ID_PATTERN. */
    InstanceId: "^i-([0-9a-f]{8}|[0-9a-f]{17})$",
};

/** The environment variable the document exports for each parameter (the script reads only these). */
export const MEMORY_PARAMETER_ENV: Readonly<Record<MemoryDocumentParameter, string>> = {
    Bucket: "DFIR_BUCKET",
    KeyPrefix: "DFIR_KEY_PREFIX",
    AvmlKey: "DFIR_AVML_KEY",
    AvmlSha256: "DFIR_AVML_SHA256",
    Region: "DFIR_REGION",
    InstanceId: "DFIR_INSTANCE_ID",
};

const PARAMETER_DESCRIPTIONS: Readonly<Record<MemoryDocumentParameter, string>> = {
    Bucket: "Evidence bucket name (the instance writes with its forensic-capture instance profile; no credentials are passed).",
    KeyPrefix: "Key prefix of the case's memory evidence: cases/<caseId>/memory/ (ends with /).",
    AvmlKey: "S3 key, in the evidence bucket, of the staged avml build for the instance's machine (tools/...).",
    AvmlSha256: "Expected sha256 (64 lower-case hex) of that binary; it is not run unless it matches and is built for this machine (uname -m).",
    Region: "Region of the evidence bucket.",
    InstanceId: "Id of the instance being captured; names the objects <KeyPrefix><InstanceId>.lime and .lime.json.",
};

/**
 * The script's exit codes (the table at the top of capture.sh; a test keeps both equal). The memory function maps
 * them to a reason: e.g. `avmlHashMismatch` means the staged tool is not the pinned build, `uploadFailed` usually
 * the instance profile or the S3 path. 0 with the sidecar present is the only success.
 */
export const CAPTURE_EXIT_CODES = {
    ok: 0,
    badParameters: 10,
    notLinux: 11,
    awsCliMissing: 12,
    avmlDownloadFailed: 13,
    avmlHashMismatch: 14,
    avmlFailed: 15,
    uploadFailed: 16,
    hashSizeMissing: 17,
    noRamDir: 18,
    avmlWrongArchitecture: 19,
    noMemorySource: 20,
} as const;

/**
 * How long the capture may run on the instance: avml reads RAM at roughly disk speed and the upload goes through
 * one gateway endpoint; 3 hours covers several hundred GiB. The memory function's own cap should not be shorter.
 */
export const CAPTURE_TIMEOUT_SECONDS = 10_800;

/** The name of the document's single step. */
export const CAPTURE_STEP_NAME = "captureMemory";

/** One parameter of an SSM document (schema 2.2). */
export interface SsmDocumentParameter {
    type: "String";
    description: string;
    allowedPattern: string;
}

/** The document content handed to `aws.ssm.Document` (JSON-serialisable). */
export interface MemoryCaptureDocument {
    schemaVersion: "2.2";
    description: string;
    parameters: Record<MemoryDocumentParameter, SsmDocumentParameter>;
    mainSteps: {
        action: "aws:runShellScript";
        name: string;
        precondition: { StringEquals: ["platformType", "Linux"] };
        inputs: { timeoutSeconds: number; runCommand: string[] };
    }[];
}

/**
 * The memory-capture Command document. Its one step exports each parameter as a `DFIR_*` variable (single quotes
 * are safe: `allowedPattern` admits no quote) and then runs the script's body, so the script that was tested is
 * what runs on the instance. The agent runs the step's file through `sh -c`, whose exec honours the `#!/bin/bash`
 * line. Throws if the script contains `{{`, which SSM would try to substitute.
 */
export function memoryCaptureDocument(script: string): MemoryCaptureDocument {
    const lines = script.replace(/\r\n/g, "\n").split("\n");
    const firstLine = lines.length > 0 && lines[0].startsWith("#!") ? 2 : 1;
    if (firstLine === 2) lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    if (lines.length === 0) throw new Error("memoryCaptureDocument: the capture script is empty");
    const brace = lines.findIndex((line) => line.includes("{{"));
    if (brace >= 0) {
        throw new Error(`memoryCaptureDocument: script line ${brace + firstLine} contains "{{", which SSM would treat as a parameter reference`);
    }

    const parameters = {} as Record<MemoryDocumentParameter, SsmDocumentParameter>;
    for (const name of MEMORY_DOCUMENT_PARAMETERS) {
        parameters[name] = { type: "String", description: PARAMETER_DESCRIPTIONS[name], allowedPattern: MEMORY_PARAMETER_PATTERNS[name] };
    }
    const exportLines = MEMORY_DOCUMENT_PARAMETERS.map((name) => `export ${MEMORY_PARAMETER_ENV[name]}='{{ ${name} }}'`);

    return {
        schemaVersion: "2.2",
        description:
            `aws-dfir: stream this instance's memory (avml ${AVML_VERSION}, LiME format) to ` +
            "s3://<Bucket>/<KeyPrefix><InstanceId>.lime with a sha256/size sidecar (.lime.json), never writing to " +
            "the instance's disk. Uses the instance profile; no credentials. Exit codes: see capture.sh.",
        parameters,
        mainSteps: [
            {
                action: "aws:runShellScript",
                name: CAPTURE_STEP_NAME,
                precondition: { StringEquals: ["platformType", "Linux"] },
                inputs: {
                    timeoutSeconds: CAPTURE_TIMEOUT_SECONDS,
                    runCommand: [
                        "#!/bin/bash",
                        "# aws-dfir memory capture. Parameters (allowedPattern-checked, re-checked below):",
                        ...exportLines,
                        "# The AWS CLI v2 installer's and snap's locations, which the agent's PATH may lack.",
                        'export PATH="$PATH:/usr/local/bin:/snap/bin"',
                        ...lines,
                    ],
                },
            },
        ],
    };
}

/** The capture script's text, read from `functions/memory/capture.sh` next to this module's directory. */
export function readCaptureScript(): string {
    return readFileSync(path.join(__dirname, "..", "functions", "memory", "capture.sh"), "utf8");
}

/** `cases/<caseId>/memory/`: the KeyPrefix parameter of a case. Throws if the case id cannot form a valid one. */
export function memoryKeyPrefix(caseId: string): string {
    const prefix = `${casePrefix(caseId)}memory/`;
    if (!new RegExp(MEMORY_PARAMETER_PATTERNS.KeyPrefix).test(prefix)) {
        throw new Error(`memoryKeyPrefix: case id ${JSON.stringify(caseId)} does not give a KeyPrefix matching ${MEMORY_PARAMETER_PATTERNS.KeyPrefix}`);
    }
    return prefix;
}

/**
 * Where the script puts a capture: the image `cases/<caseId>/memory/<instanceId>.lime` and its sidecar
 * `<image>.json`. Throws on a case id or instance id the document would reject, so a caller never sends a command
 * bound to fail on its parameters.
 */
export function memoryObjectKeys(caseId: string, instanceId: string): { prefix: string; image: string; sidecar: string } {
    const prefix = memoryKeyPrefix(caseId);
    if (!new RegExp(MEMORY_PARAMETER_PATTERNS.InstanceId).test(instanceId)) {
        throw new Error(`memoryObjectKeys: ${JSON.stringify(instanceId)} is not an EC2 instance id`);
    }
    const image = `${prefix}${instanceId}.lime`;
    return { prefix, image, sidecar: `${image}.json` };
}

/** What a caller knows when it sends the capture command. */
export interface MemoryCommandInput {
    bucket: string;
    caseId: string;
    instanceId: string;
    avmlKey: string;
    avmlSha256: string;
    region: string;
}

/**
 * The `Parameters` of `SendCommand` for this document (`{Name: [value]}`), each value checked against its
 * pattern first: SSM would reject a mismatch only after the command was created, with a less precise message.
 */
export function memoryCommandParameters(input: MemoryCommandInput): Record<MemoryDocumentParameter, [string]> {
    const values: Record<MemoryDocumentParameter, string> = {
        Bucket: input.bucket,
        KeyPrefix: memoryKeyPrefix(input.caseId),
        AvmlKey: input.avmlKey,
        AvmlSha256: input.avmlSha256,
        Region: input.region,
        InstanceId: input.instanceId,
    };
    const problems = MEMORY_DOCUMENT_PARAMETERS.filter((name) => !new RegExp(MEMORY_PARAMETER_PATTERNS[name]).test(values[name]));
    if (problems.length > 0) {
        throw new Error(`memoryCommandParameters: ${problems.map((name) => `${name} does not match ${MEMORY_PARAMETER_PATTERNS[name]}`).join("; ")}`);
    }
    const result = {} as Record<MemoryDocumentParameter, [string]>;
    for (const name of MEMORY_DOCUMENT_PARAMETERS) result[name] = [values[name]];
    return result;
}
