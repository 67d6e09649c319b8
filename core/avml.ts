/**
 * The pinned avml release and its builds: which build an instance runs (from what DescribeInstances says of its
 * architecture) and which machine a binary is built for (its ELF header). Pure.
 *
 * avml ships one static binary per machine: the release's `avml` asset is the x86_64 build, `avml-aarch64` the
 * aarch64 (Graviton) one (microsoft/avml, .github/workflows/build.yml @ v0.20.0 builds both; the maintainers attach
 * them to the release by hand, RELEASE_PROCESS.md). A kernel runs only a binary of its own machine, so every
 * instance must be sent its own build.
 */
import { ENV } from "./workflow";

/** The avml release the capture script was checked against (the header of functions/memory/capture.sh). */
export const AVML_VERSION = "v0.20.0";

/** The builds, named as `uname -m` names the machine each runs on. */
export const AVML_BUILDS = ["x86_64", "aarch64"] as const;

export type AvmlBuild = (typeof AVML_BUILDS)[number];

/** The release asset of each build (https://github.com/microsoft/avml/releases/tag/v0.20.0). */
export const AVML_RELEASE_ASSETS: Readonly<Record<AvmlBuild, string>> = { x86_64: "avml", aarch64: "avml-aarch64" };

/**
 * `e_machine` of each build's ELF header (System V ABI, "ELF Header"; Linux `include/uapi/linux/elf-em.h`):
 * EM_X86_64 62, EM_AARCH64 183. capture.sh checks the same values against `uname -m` (a test keeps them equal).
 */
export const AVML_ELF_MACHINE: Readonly<Record<AvmlBuild, number>> = { x86_64: 0x3e, aarch64: 0xb7 };

/** One staged build: its key in the evidence bucket and its sha256 (64 lower-case hex). */
export interface StagedAvml {
    key: string;
    sha256: string;
}

/** The staged builds of a deployment (none, one or both). */
export type StagedAvmlBuilds = Partial<Record<AvmlBuild, StagedAvml>>;

/**
 * Why an instance has no avml build: `macos` (EC2 Mac instances: `x86_64_mac`, `arm64_mac`; avml is Linux-only),
 * `unsupported` (an architecture avml publishes no build for, e.g. `i386`), `unknown` (the case's instance record
 * carries no architecture: recorded before this field existed).
 */
export type NoAvmlBuild = { none: "macos" | "unsupported" | "unknown"; architecture?: string };

/**
 * The build for an instance, from DescribeInstances' `Architecture` (`i386 | x86_64 | arm64 | x86_64_mac |
 * arm64_mac`, EC2 API Reference, "Instance"): `x86_64` -> x86_64, `arm64` -> aarch64 (the kernel's name for it).
 */
export function avmlBuildFor(architecture: string | undefined): { build: AvmlBuild } | NoAvmlBuild {
    if (architecture === undefined || architecture === "") return { none: "unknown" };
    if (architecture === "x86_64") return { build: "x86_64" };
    if (architecture === "arm64") return { build: "aarch64" };
    if (architecture.endsWith("_mac")) return { none: "macos", architecture };
    return { none: "unsupported", architecture };
}

/**
 * The build an ELF binary is (a 64-bit little-endian ELF whose `e_machine` is one of {@link AVML_ELF_MACHINE}), or
 * why it is none: what EvidenceStore checks each configured file with before staging it.
 */
export function elfBuild(bytes: Uint8Array): { build: AvmlBuild } | { problem: string } {
    if (bytes.length < 20 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
        return { problem: "is not an ELF executable (no \\x7fELF magic)" };
    }
    if (bytes[4] !== 2 || bytes[5] !== 1) return { problem: "is not a 64-bit little-endian ELF executable" };
    const machine = bytes[18] | (bytes[19] << 8);
    const build = AVML_BUILDS.find((b) => AVML_ELF_MACHINE[b] === machine);
    if (build === undefined) return { problem: `is built for ELF machine ${machine} (0x${machine.toString(16)}), neither x86_64 (0x3e) nor aarch64 (0xb7)` };
    return { build };
}

/**
 * The functions' environment variables of each build (core/workflow.ts ENV), and the variables of the single build
 * v0.11.0 deployments set, which the memory function refuses by name.
 */
export const AVML_ENV: Readonly<Record<AvmlBuild, { key: string; sha256: string }>> = {
    x86_64: { key: ENV.avmlX86_64Key, sha256: ENV.avmlX86_64Sha256 },
    aarch64: { key: ENV.avmlAarch64Key, sha256: ENV.avmlAarch64Sha256 },
};
export const RETIRED_AVML_ENV = ["AVML_KEY", "AVML_SHA256"] as const;
