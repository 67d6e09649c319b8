/**
 * Baseline designs for the benchmark suite, expressed as state machines built from the real definition's own
 * pieces (`buildDefinition`'s states and evidence branches), so the drill runs them with the same handlers against
 * the same simulated account, and Seal receives the same `$.evidence` array [disk, memory, metadata]:
 *
 * - `sequential`: the seed's design, isolate -> snapshot -> memory: the Parallel evidence state is replaced by the
 *   disk loop, then the memory loop, then metadata, one after the other (each a one-branch Parallel state running
 *   the real branch unchanged), then their results assembled into `$.evidence`;
 * - `memory-first`: memory captured before isolation: the memory loop runs right after the case opens (before the
 *   approval check and Contain), then Contain, then disk and metadata in parallel, then the same assembly.
 *
 * The intermediate results live under `$.benchEvidence` (the sealed state carries it too; nothing reads it).
 */
import { buildDefinition, STATES, type DefinitionTargets, type WorkflowSettings } from "../../../core/definition";

export type DesignName = "parallel" | "sequential" | "memory-first";

export const DESIGNS: readonly DesignName[] = ["parallel", "sequential", "memory-first"];

/** What each design is, in one line (BENCHMARKS.md). */
export const DESIGN_DESCRIPTIONS: Record<DesignName, string> = {
    parallel: "this project: contain first, then disk | memory | metadata in parallel",
    sequential: "the seed's design: contain, then disk, then memory, then metadata, in series",
    "memory-first": "memory captured before isolation: memory, then contain, then disk | metadata",
};

/** State names the baselines add. */
export const BASELINE_STATES = {
    evidenceMemory: "EvidenceMemory",
    evidenceMetadata: "EvidenceMetadata",
    memoryFirst: "MemoryFirst",
    assemble: "AssembleEvidence",
    evidenceList: "EvidenceList",
} as const;

const PARTS = "$.benchEvidence";

type States = Record<string, Record<string, unknown>>;
interface Evidence {
    Type: "Parallel";
    Parameters: Record<string, unknown>;
    Branches: [unknown, unknown, unknown];
    Catch: unknown[];
}

function pieces(targets: DefinitionTargets, settings: WorkflowSettings): { definition: Record<string, unknown>; states: States; evidence: Evidence } {
    const definition = structuredClone(buildDefinition(targets, settings));
    const states = definition.States as States;
    const evidence = states[STATES.evidence] as unknown as Evidence;
    if (evidence?.Type !== "Parallel" || evidence.Branches.length !== 3) throw new Error("baselines: the definition's Evidence state is not the 3-branch Parallel they are built from");
    return { definition, states, evidence };
}

/** A one-branch Parallel state running `branch` unchanged on the evidence branches' input. */
function alone(evidence: Evidence, branches: unknown[], resultPath: string, next: string, comment: string): Record<string, unknown> {
    return {
        Type: "Parallel",
        Comment: comment,
        Parameters: evidence.Parameters,
        Branches: branches,
        ResultPath: resultPath,
        Catch: evidence.Catch,
        Next: next,
    };
}

/** `$.benchEvidence.assembled` = [disk, memory, metadata], then `$.evidence` = that array, then Seal. */
function assembly(disk: string, memory: string, metadata: string): States {
    return {
        [BASELINE_STATES.assemble]: {
            Type: "Pass",
            Parameters: { [`list.$`]: `States.Array(${disk}, ${memory}, ${metadata})` },
            ResultPath: `${PARTS}.assembled`,
            Next: BASELINE_STATES.evidenceList,
        },
        [BASELINE_STATES.evidenceList]: {
            Type: "Pass",
            Comment: "The same $.evidence array as the Parallel state's: [disk, memory, metadata]",
            InputPath: `${PARTS}.assembled.list`,
            ResultPath: "$.evidence",
            Next: STATES.seal,
        },
    };
}

/** The seed's design: isolate -> snapshot -> memory (-> metadata), each evidence loop alone, in series. */
export function sequentialDefinition(targets: DefinitionTargets, settings: WorkflowSettings = {}): Record<string, unknown> {
    const { definition, states, evidence } = pieces(targets, settings);
    const [disk, memory, metadata] = evidence.Branches;
    // The first keeps the name "Evidence": Contain and NotContained lead there unchanged.
    states[STATES.evidence] = alone(evidence, [disk], `${PARTS}.disk`, BASELINE_STATES.evidenceMemory, "Sequential baseline: disk loop alone");
    states[BASELINE_STATES.evidenceMemory] = alone(evidence, [memory], `${PARTS}.memory`, BASELINE_STATES.evidenceMetadata, "Sequential baseline: memory loop alone, after disk");
    states[BASELINE_STATES.evidenceMetadata] = alone(evidence, [metadata], `${PARTS}.metadata`, BASELINE_STATES.assemble, "Sequential baseline: metadata, after memory");
    Object.assign(states, assembly(`${PARTS}.disk[0]`, `${PARTS}.memory[0]`, `${PARTS}.metadata[0]`));
    definition.Comment = "BENCHMARK BASELINE (sequential): triage, open case, [approval], contain, disk, memory, metadata, seal, notify";
    return definition;
}

/** Memory captured before isolation: memory loop -> [approval] -> contain -> disk | metadata. */
export function memoryFirstDefinition(targets: DefinitionTargets, settings: WorkflowSettings = {}): Record<string, unknown> {
    const { definition, states, evidence } = pieces(targets, settings);
    const [disk, memory, metadata] = evidence.Branches;
    // Every way into the approval check (a new case) now goes through the memory loop first.
    for (const [name, state] of Object.entries(states)) {
        if (state.Default === STATES.approvalNeeded) state.Default = BASELINE_STATES.memoryFirst;
        if (state.Next === STATES.approvalNeeded) state.Next = BASELINE_STATES.memoryFirst;
        const choices = state.Choices as { Next?: string }[] | undefined;
        for (const choice of choices ?? []) if (choice.Next === STATES.approvalNeeded) throw new Error(`baselines: ${name} chooses ${STATES.approvalNeeded}; not expected`);
    }
    states[BASELINE_STATES.memoryFirst] = {
        ...alone(evidence, [memory], `${PARTS}.memory`, STATES.approvalNeeded, "Memory-first baseline: memory loop before any containment"),
        // A failed memory loop is recorded by its branch ({error}); anything else still goes on to containment.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.evidenceError", Next: STATES.approvalNeeded }],
    };
    states[STATES.evidence] = alone(evidence, [disk, metadata], `${PARTS}.rest`, BASELINE_STATES.assemble, "Memory-first baseline: disk | metadata after containment");
    Object.assign(states, assembly(`${PARTS}.rest[0]`, `${PARTS}.memory[0]`, `${PARTS}.rest[1]`));
    definition.Comment = "BENCHMARK BASELINE (memory-first): triage, open case, memory, [approval], contain, disk | metadata, seal, notify";
    return definition;
}

/** The definition builder of each design (`parallel` is the deployed one). */
export const DEFINITIONS: Record<DesignName, (targets: DefinitionTargets, settings: WorkflowSettings) => Record<string, unknown>> = {
    parallel: buildDefinition,
    sequential: sequentialDefinition,
    "memory-first": memoryFirstDefinition,
};
