import { strict as assert } from "node:assert";
import { MAX_USER_TAGS, planVolumeTags, VOLUME_TAG_PREFIX } from "../core/snapshotTags";

const CASE = { "dfir:case-id": "c-now", "dfir:instance-id": "i-0123456789abcdef0", "dfir:evidence": "disk" };

/** n workload tags `w00`..: values `v<i>`. */
const workload = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`w${String(i).padStart(2, "0")}`, `v${i}`]));

describe("planVolumeTags: which of a volume's tags its evidence snapshot carries", () => {
    it("copies a volume's ordinary tags as they are, noting how many", () => {
        const plan = planVolumeTags(CASE, { Name: "web-1/dev/xvda", team: "payments" });
        assert.deepEqual(plan.tags, { Name: "web-1/dev/xvda", team: "payments" });
        assert.deepEqual(plan.note, { copied: 2 });
    });

    it("never copies aws: tags (reserved), and records them with their values", () => {
        const plan = planVolumeTags(CASE, { Name: "n", "aws:backup:source-resource": "snap-0aaa", "AWS:Other": "x" });
        assert.deepEqual(plan.tags, { Name: "n" });
        assert.deepEqual(plan.note.notCopied, [
            { key: "AWS:Other", value: "x", reason: "reserved aws: tag" },
            { key: "aws:backup:source-resource", value: "snap-0aaa", reason: "reserved aws: tag" },
        ]);
    });

    it("keeps a volume's dfir:* tags under volume:, so the case's own tags win and the evidence never names another case", () => {
        const plan = planVolumeTags(CASE, { "dfir:case-id": "c-old", "dfir:source-snapshot": "snap-0old", Name: "n" });
        assert.deepEqual(plan.tags, { Name: "n", "volume:dfir:case-id": "c-old", "volume:dfir:source-snapshot": "snap-0old" });
        assert.deepEqual(plan.note.renamed, { "dfir:case-id": "volume:dfir:case-id", "dfir:source-snapshot": "volume:dfir:source-snapshot" });
        assert.equal(plan.note.copied, 3);
        assert.ok(Object.keys(plan.tags).every((k) => !k.startsWith("dfir:")));
    });

    it("lets the volume's own volume:dfir:* key stand and records the dfir:* tag it would have been renamed onto", () => {
        const plan = planVolumeTags(CASE, { "dfir:case-id": "c-old", "volume:dfir:case-id": "native" });
        assert.deepEqual(plan.tags, { "volume:dfir:case-id": "native" });
        assert.deepEqual(plan.note.notCopied, [{ key: "dfir:case-id", value: "c-old", reason: "renamed key taken" }]);
    });

    it("records a dfir:* key whose renamed key would be longer than EC2's 128 characters", () => {
        const long = `dfir:${"x".repeat(120)}`;
        assert.equal(long.length, 125);
        assert.ok(`${VOLUME_TAG_PREFIX}${long}`.length > 128);
        const plan = planVolumeTags(CASE, { [long]: "v" });
        assert.deepEqual(plan.tags, {});
        assert.deepEqual(plan.note, { copied: 0, notCopied: [{ key: long, value: "v", reason: "key too long once renamed" }] });
    });

    it("a volume at 50 tags: the case's 3 first, then Name, the renamed dfir:* tags, the others by key; the last 3 recorded as over the limit", () => {
        const volume = { ...workload(45), Name: "n", "dfir:case-id": "c-old", "dfir:instance-id": "i-old", "dfir:evidence": "disk", "aws:backup:source-resource": "snap-0aaa" };
        assert.equal(Object.keys(volume).filter((k) => !k.startsWith("aws:")).length, 49);
        const full = { ...volume, "dfir:source-snapshot": "snap-0old" };
        const plan = planVolumeTags(CASE, full);
        assert.equal(Object.keys(plan.tags).length + Object.keys(CASE).length, MAX_USER_TAGS);
        assert.equal(plan.tags.Name, "n");
        assert.equal(plan.tags["volume:dfir:case-id"], "c-old");
        assert.equal(plan.tags["volume:dfir:source-snapshot"], "snap-0old");
        assert.deepEqual(plan.note.notCopied, [
            { key: "aws:backup:source-resource", value: "snap-0aaa", reason: "reserved aws: tag" },
            { key: "w42", value: "v42", reason: "over EC2's 50 tags" },
            { key: "w43", value: "v43", reason: "over EC2's 50 tags" },
            { key: "w44", value: "v44", reason: "over EC2's 50 tags" },
        ]);
        assert.equal(plan.note.copied, 47);
    });

    it("gives the same plan whatever the order of the volume's tags", () => {
        const volume = { ...workload(48), "dfir:case-id": "c-old", Name: "n", "aws:x": "y" };
        const reversed = Object.fromEntries(Object.entries(volume).reverse());
        assert.deepEqual(planVolumeTags(CASE, reversed), planVolumeTags(CASE, volume));
    });

    it("accounts for every volume tag exactly once, never exceeds 50, never sets a dfir: or aws: key (random volumes)", () => {
        let seed = 7;
        const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
        for (let round = 0; round < 300; round++) {
            const volume: Record<string, string> = {};
            const n = random(60);
            for (let i = 0; i < n; i++) {
                const prefix = ["", "dfir:", "aws:", "volume:dfir:", "Name"][random(5)];
                volume[prefix === "Name" ? "Name" : `${prefix}k${random(40)}`] = `v${i}`;
            }
            const plan = planVolumeTags(CASE, volume);
            assert.ok(Object.keys(plan.tags).length + 3 <= MAX_USER_TAGS);
            assert.ok(Object.keys(plan.tags).every((k) => !k.startsWith("dfir:") && !k.toLowerCase().startsWith("aws:")));
            const asIs = Object.keys(plan.tags).filter((k) => volume[k] !== undefined && !Object.values(plan.note.renamed ?? {}).includes(k));
            const accounted = [...asIs, ...Object.keys(plan.note.renamed ?? {}), ...(plan.note.notCopied ?? []).map((x) => x.key)].sort();
            assert.deepEqual(accounted, Object.keys(volume).sort(), JSON.stringify(volume));
            assert.equal(plan.note.copied, Object.keys(plan.tags).length);
            for (const [from, to] of Object.entries(plan.note.renamed ?? {})) assert.equal(plan.tags[to], volume[from]);
        }
    });

    it("refuses case tags outside the case's namespace, reserved, or more than 50 (a programming error)", () => {
        assert.throws(() => planVolumeTags({ Name: "x" }, {}), /must all be in dfir:\*/);
        assert.throws(() => planVolumeTags({ "aws:x": "y" }, {}), /must all be in dfir:\*/);
        assert.throws(() => planVolumeTags(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`dfir:k${i}`, ""])), {}), /51 is more than EC2's 50/);
    });
});
