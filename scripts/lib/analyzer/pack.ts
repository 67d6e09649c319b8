/**
 * Starting a Node.js policy pack the way the engine does (pulumi `NewPolicyAnalyzer` + the `policy` analyzer
 * shim): `node [nodeargs] <pack's @pulumi/pulumi>/cmd/run-policy-pack/index.js <engine address> <pack dir>`, cwd
 * the pack dir, the first stdout line being the port. Also loads the gRPC stubs from the pack's own
 * @pulumi/pulumi copy: its serializers check message classes with `instanceof`, so a second copy would fail.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type * as GrpcJs from "@grpc/grpc-js";
import type * as AnalyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import type * as AnalyzerGrpcPb from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type * as StructPb from "google-protobuf/google/protobuf/struct_pb";
import type * as EmptyPb from "google-protobuf/google/protobuf/empty_pb";
import { lastLine } from "./stack";

/** The pack could not be started: exit 2. */
export class PackStartError extends Error {}

export interface ResolvedPack {
    dir: string;
    /** The pack's own @pulumi/pulumi directory. */
    pulumiDir: string;
    runPolicyPack: string;
    /** `runtime.options.nodeargs` of PulumiPolicy.yaml, split on whitespace. */
    nodeArgs: string[];
    /** `version` of PulumiPolicy.yaml, which the engine prefers over the pack's own. */
    version?: string;
}

function startError(message: string): PackStartError {
    return new PackStartError(`policy pack failed to start: ${message}`);
}

export function resolvePack(packDir: string): ResolvedPack {
    const dir = path.resolve(packDir);
    const manifest = path.join(dir, "PulumiPolicy.yaml");
    if (!fs.existsSync(manifest)) throw startError(`no PulumiPolicy.yaml in ${dir}`);
    let doc: { runtime?: unknown; version?: unknown } | null;
    try {
        doc = yaml.load(fs.readFileSync(manifest, "utf8")) as typeof doc;
    } catch (error) {
        throw startError(`${manifest}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
    const runtime = doc?.runtime;
    const runtimeName = typeof runtime === "string" ? runtime : (runtime as { name?: unknown } | undefined)?.name;
    if (runtimeName !== "nodejs") throw startError(`${manifest}: runtime ${JSON.stringify(runtimeName)} is not nodejs`);
    const options = typeof runtime === "object" && runtime !== null ? (runtime as { options?: Record<string, unknown> }).options : undefined;
    const nodeargs = options?.nodeargs;
    let pulumiPackage: string;
    try {
        pulumiPackage = require.resolve("@pulumi/pulumi/package.json", { paths: [dir] });
    } catch {
        throw startError(`@pulumi/pulumi is not installed for ${dir} (run npm install there)`);
    }
    const pulumiDir = path.dirname(pulumiPackage);
    return {
        dir,
        pulumiDir,
        runPolicyPack: path.join(pulumiDir, "cmd", "run-policy-pack", "index.js"),
        nodeArgs: typeof nodeargs === "string" ? nodeargs.split(/\s+/).filter((arg) => arg !== "") : [],
        ...(typeof doc?.version === "string" && doc.version !== "" ? { version: doc.version } : {}),
    };
}

export interface Protos {
    grpc: typeof GrpcJs;
    analyzer: typeof AnalyzerPb;
    service: typeof AnalyzerGrpcPb;
    Struct: typeof StructPb.Struct;
    Empty: typeof EmptyPb.Empty;
}

/** grpc-js, the analyzer stubs, Struct and Empty, all as the pack's @pulumi/pulumi resolves them. */
export function loadProtos(pulumiDir: string): Protos {
    const from = (request: string) => require(require.resolve(request, { paths: [path.join(pulumiDir, "proto")] }));
    return {
        grpc: from("@grpc/grpc-js") as typeof GrpcJs,
        analyzer: require(path.join(pulumiDir, "proto", "analyzer_pb.js")) as typeof AnalyzerPb,
        service: require(path.join(pulumiDir, "proto", "analyzer_grpc_pb.js")) as typeof AnalyzerGrpcPb,
        Struct: (from("google-protobuf/google/protobuf/struct_pb.js") as typeof StructPb).Struct,
        Empty: (from("google-protobuf/google/protobuf/empty_pb.js") as typeof EmptyPb).Empty,
    };
}

export interface RunningPack {
    port: number;
    child: ChildProcess;
    /** The last lines the pack wrote to stderr (for error messages). */
    stderrTail(): string;
    /** Whether the process has exited, and how. */
    exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
    stop(): Promise<void>;
}

const TAIL_BYTES = 64 * 1024;

/** Spawns the pack and resolves once it has printed its port; PackStartError if it exits or times out first. */
export function startPack(pack: ResolvedPack, env: NodeJS.ProcessEnv, timeoutMs: number, nodePath = process.execPath): Promise<RunningPack> {
    const child = spawn(nodePath, [...pack.nodeArgs, pack.runPolicyPack, "127.0.0.1:0", pack.dir], {
        cwd: pack.dir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let exitState: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const exited = new Promise<void>((resolve) =>
        child.on("exit", (code, signal) => {
            exitState = { code, signal };
            resolve();
        }),
    );
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
        stderr = (stderr + chunk).slice(-TAIL_BYTES);
    });

    const running = (port: number): RunningPack => ({
        port,
        child,
        stderrTail: () => stderr,
        exit: () => exitState,
        stop: async () => {
            if (exitState) return;
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
            await exited;
            clearTimeout(timer);
        },
    });

    return new Promise<RunningPack>((resolve, reject) => {
        let stdout = "";
        let settled = false;
        const fail = (message: string) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (!exitState) child.kill("SIGKILL");
            reject(startError(message));
        };
        const timer = setTimeout(() => fail(`no port printed within ${Math.round(timeoutMs / 1000)} s`), timeoutMs);
        child.on("error", (error) => fail(error.message));
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => {
            if (settled) return; // later output (a policy's console.log) is drained and dropped
            stdout += chunk;
            const newline = stdout.indexOf("\n");
            if (newline < 0) return;
            const line = stdout.slice(0, newline).trim();
            if (!/^\d+$/.test(line) || Number(line) <= 0 || Number(line) > 65535) return fail(`expected a port on the first stdout line, got ${JSON.stringify(line.slice(0, 200))}`);
            settled = true;
            clearTimeout(timer);
            resolve(running(Number(line)));
        });
        // "close" comes after stderr has drained, so its last line is there to report.
        child.on("close", (code, signal) => fail(lastLine(stderr) ?? `exited with ${signal ?? `code ${code}`} before printing its port`));
    });
}
