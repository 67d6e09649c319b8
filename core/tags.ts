/**
 * The tag contract (ARCHITECTURE.md): the policy pack, the functions and the analyst tools key off these
 * names and values, so they are spelled once, here.
 */
export const TAGS = {
    /** On evidence buckets (`evidence`), isolation groups and their rules (`isolation`), endpoint groups. */
    role: "dfir:role",
    roleEvidence: "evidence",
    roleIsolation: "isolation",
    roleEndpoints: "endpoints",
    /** The all-open group applied for one step before isolation, to untrack existing connections. */
    roleUntrack: "untrack",
    /**
     * The forensic workstation (ForensicWorkstation): its instance, which `dfir attach` looks up by this tag, and
     * its security group and rules, which the policy pack holds to the isolation group's rules.
     */
    roleWorkstation: "workstation",
    /** The evidence access trail's log bucket (EvidenceTrail): locked like evidence, but it holds CloudTrail's files. */
    roleAccessTrail: "access-trail",
    /** On a contained instance. */
    caseId: "dfir:case-id",
    status: "dfir:status",
    statusIsolated: "isolated",
    statusReleased: "released",
    isolatedAt: "dfir:isolated-at",
    /** On an instance: containment waits for a human (`required`). */
    approval: "dfir:approval",
    /** On an instance: evidence only, never contain (`true`). */
    skip: "dfir:skip",
    /** On evidence snapshots: the instance they were taken from, and the kind of evidence. */
    instanceId: "dfir:instance-id",
    evidence: "dfir:evidence",
    /** `dfir:evidence` values: the member's own snapshots, its re-encrypted copies shared with the hub, the hub's copies. */
    evidenceDisk: "disk",
    evidenceShareCopy: "disk-share-copy",
    evidenceHubCopy: "disk-hub-copy",
    /** A volume `dfir attach` made from an evidence snapshot for the workstation (never evidence itself). */
    evidenceAnalysisCopy: "analysis-copy",
    /** On an analysis volume: the workstation instance it was made for (adoption on a re-run is per case and workstation). */
    workstation: "dfir:workstation",
    /** On snapshot copies: the member snapshot they copy (the evidence of record), and its account (hub copies). */
    sourceSnapshot: "dfir:source-snapshot",
    sourceAccount: "dfir:source-account",
} as const;
