/**
 * Which of a volume's tags its evidence snapshot carries, as a pure decision.
 *
 * The snapshot carries the case's own tags from creation (`dfir:case-id`, `dfir:instance-id`, `dfir:evidence`):
 * they always win. The volume's tags are copied afterwards, explicitly, as far as EC2 allows (EC2 User Guide, "Tag
 * your Amazon EC2 resources", tag restrictions: at most 50 user tags per resource, keys of at most 128 characters,
 * the `aws:` prefix reserved to AWS, which nobody may set):
 *
 * - `aws:` tags are AWS's own (AWS Backup's `aws:backup:source-resource` on a restored volume...): not copied;
 * - the `dfir:` namespace is the case's: a volume's own `dfir:*` tags (a volume restored from earlier evidence, an
 *   analysis volume of `dfir attach`) are kept under {@link VOLUME_TAG_PREFIX} (`volume:dfir:case-id`), never as
 *   they are, where they would name another case or make the evidence look like a copy;
 * - what does not fit in the 50 (the case's tags first, then `Name`, the renamed `dfir:*` tags, the others by key) is
 *   not copied.
 *
 * Every volume tag not copied as it is, is in the {@link VolumeTagNote} the disk evidence (and so the manifest)
 * records for the snapshot: nothing the volume said is lost.
 */

/** EC2's limit of user tags per resource (`aws:` tags do not count). */
export const MAX_USER_TAGS = 50;
/** EC2's longest tag key. */
export const MAX_TAG_KEY_LENGTH = 128;
/** The case's namespace: no volume tag keeps a key in it. */
export const CASE_TAG_NAMESPACE = "dfir:";
/** Where a volume's own `dfir:*` tags go on its snapshot: `volume:` + the key. */
export const VOLUME_TAG_PREFIX = "volume:";

/** Why a volume tag is not on its snapshot. */
export type NotCopiedReason =
    | "reserved aws: tag"
    | "over EC2's 50 tags"
    | "key too long once renamed"
    | "renamed key taken"
    /** The snapshot function's CreateTags was refused (the note's `error` says why): nothing was copied. */
    | "CreateTags refused";

/** What became of one volume's tags on its snapshot (recorded with the snapshot in the disk evidence). */
export interface VolumeTagNote {
    /** Volume tags on the snapshot (renamed ones included). */
    copied: number;
    /** The volume's `dfir:*` tags, by their key on the volume -> their key on the snapshot. */
    renamed?: Record<string, string>;
    /** Volume tags not on the snapshot, with their values. */
    notCopied?: { key: string; value: string; reason: NotCopiedReason }[];
    /** Why no volume tag could be copied at all (CreateTags refused), when it came to that. */
    error?: string;
}

/** The volume tags to add to the snapshot (after creation, beside the case's tags), and the note of what became of them. */
export interface VolumeTagPlan {
    tags: Record<string, string>;
    note: VolumeTagNote;
}

const isReserved = (key: string) => key.toLowerCase().startsWith("aws:");
const inCaseNamespace = (key: string) => key.startsWith(CASE_TAG_NAMESPACE);

/**
 * The plan for one snapshot: `caseTags` (what it carries from creation: at most 50, none reserved, all in the case's
 * namespace) and its volume's tags. Deterministic: the same input gives the same plan whatever the order of the tags.
 * Throws on case tags that break those rules (a programming error, not input).
 */
export function planVolumeTags(caseTags: Readonly<Record<string, string>>, volumeTags: Readonly<Record<string, string>>): VolumeTagPlan {
    const caseKeys = Object.keys(caseTags);
    const badCaseKeys = caseKeys.filter((k) => isReserved(k) || !inCaseNamespace(k));
    if (badCaseKeys.length > 0) throw new Error(`case tags must all be in ${CASE_TAG_NAMESPACE}*, not reserved: ${badCaseKeys.join(", ")}`);
    if (caseKeys.length > MAX_USER_TAGS) throw new Error(`case tags: ${caseKeys.length} is more than EC2's ${MAX_USER_TAGS} tags per resource`);

    const notCopied: NonNullable<VolumeTagNote["notCopied"]> = [];
    const renamed: Record<string, string> = {};
    const keys = Object.keys(volumeTags).sort();
    // The volume's own keys first (they are taken as they are), then the renamed ones, which yield to any key taken.
    const taken = new Set<string>(caseKeys);
    const natives: string[] = [];
    for (const key of keys) {
        if (isReserved(key)) notCopied.push({ key, value: volumeTags[key] as string, reason: "reserved aws: tag" });
        else if (!inCaseNamespace(key)) {
            natives.push(key);
            taken.add(key);
        }
    }
    const renames: { from: string; to: string }[] = [];
    for (const key of keys.filter(inCaseNamespace)) {
        const to = `${VOLUME_TAG_PREFIX}${key}`;
        if (to.length > MAX_TAG_KEY_LENGTH) notCopied.push({ key, value: volumeTags[key] as string, reason: "key too long once renamed" });
        else if (taken.has(to)) notCopied.push({ key, value: volumeTags[key] as string, reason: "renamed key taken" });
        else {
            renames.push({ from: key, to });
            taken.add(to);
        }
    }

    // Within EC2's 50: Name, then the renamed dfir:* tags (where the volume came from), then the others by key.
    const budget = MAX_USER_TAGS - caseKeys.length;
    const ordered: { from: string; to: string }[] = [
        ...natives.filter((k) => k === "Name").map((k) => ({ from: k, to: k })),
        ...renames,
        ...natives.filter((k) => k !== "Name").map((k) => ({ from: k, to: k })),
    ];
    const tags: Record<string, string> = {};
    ordered.forEach(({ from, to }, i) => {
        if (i >= budget) {
            notCopied.push({ key: from, value: volumeTags[from] as string, reason: "over EC2's 50 tags" });
            return;
        }
        tags[to] = volumeTags[from] as string;
        if (from !== to) renamed[from] = to;
    });

    const note: VolumeTagNote = { copied: Object.keys(tags).length };
    if (Object.keys(renamed).length > 0) note.renamed = renamed;
    if (notCopied.length > 0) note.notCopied = notCopied.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { tags, note };
}
