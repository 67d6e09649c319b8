/**
 * The repository stands on its own: someone who clones it from its Git host has nothing beside it. Nothing
 * tracked points outside it, every relative link in its docs resolves (anchors included), and every
 * `npm run <script>` the docs name exists.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { GUARDDUTY_FIXTURES, guardDutyFixtureFiles } from "../scripts/lib/fixtures";

const REPO = path.resolve(__dirname, "..");

/** Every file git would commit: tracked, plus untracked ones it does not ignore (so a new file counts too). */
function repositoryFiles(): string[] {
    const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPO, encoding: "utf8" });
    // Files only (a symlinked node_modules in a worktree is listed as untracked: not the repository's).
    return [...new Set(out.split("\0").filter(Boolean))].filter((f) => existsSync(path.join(REPO, f)) && statSync(path.join(REPO, f)).isFile()).sort();
}

/** The markdown a reader follows: the README, the docs, and every other .md of the project's own (fixtures' INDEX.md too). */
function markdownFiles(files: string[]): string[] {
    return files.filter((f) => f.endsWith(".md") && !f.startsWith("test/fixtures/"));
}

/** Markdown with its fenced code blocks and inline code spans blanked out (links there are not links). */
export function proseOf(markdown: string): string {
    return markdown
        .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "")
        .replace(/`[^`\n]*`/g, "");
}

/** The link targets of a markdown text: inline `[text](target)`, images, and reference definitions `[x]: target`. */
export function linkTargets(markdown: string): string[] {
    const prose = proseOf(markdown);
    const inline = [...prose.matchAll(/!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
    const references = [...prose.matchAll(/^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]);
    return [...inline, ...references];
}

/** GitHub's heading anchors of a markdown text (lower-cased, punctuation dropped, spaces to hyphens, -1, -2 ... for repeats). */
export function headingAnchors(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
    for (const m of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
        const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/<[^>]+>/g, "");
        const base = text.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

/** What is wrong with one relative link of `from` (a repository path), or undefined when it resolves. */
function linkProblem(from: string, target: string): string | undefined {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: ...: not a relative link
    const [rawFile, anchor] = target.split("#", 2) as [string, string | undefined];
    const file = decodeURIComponent(rawFile);
    const resolved = file === "" ? path.join(REPO, from) : path.resolve(path.dirname(path.join(REPO, from)), file);
    if (!resolved.startsWith(REPO + path.sep) && resolved !== REPO) return `${from}: ${target} points outside the repository`;
    if (!existsSync(resolved)) return `${from}: ${target} does not exist`;
    if (anchor !== undefined && anchor !== "") {
        if (!resolved.endsWith(".md") || statSync(resolved).isDirectory()) return `${from}: ${target} has an anchor into a file that is not markdown`;
        if (!headingAnchors(readFileSync(resolved, "utf8")).has(anchor)) return `${from}: ${target}: no heading makes the anchor #${anchor}`;
    }
    return undefined;
}

/** The scripts named as `npm run [-s|--silent] NAME` in a text (code included: commands are quoted as code). */
export function npmScriptsNamed(text: string): string[] {
    return [...text.matchAll(/\bnpm run(?:\s+(?:-s|--silent))?\s+([A-Za-z0-9][\w:.-]*)/g)].map((m) => m[1]);
}

describe("the repository stands on its own", () => {
    const files = repositoryFiles();

    it("mentions no path beside the repository (nothing a clone from its Git host lacks)", () => {
        const beside = `${".."}/shared`; // spelled so that this line is not a hit itself
        const offenders: string[] = [];
        for (const file of files) {
            const full = path.join(REPO, file);
            const bytes = readFileSync(full);
            if (bytes.includes(0)) continue; // binary (the screenshot)
            bytes.toString("utf8").split("\n").forEach((line, i) => {
                if (line.includes(beside) || /(["'`])\.\.\1\s*,\s*(["'`])shared\2/.test(line)) offenders.push(`${file}:${i + 1}`);
            });
        }
        assert.deepEqual(offenders, []);
    });

    it("holds the 30 real GuardDuty events and their provenance in fixtures/guardduty/", () => {
        const events = guardDutyFixtureFiles();
        assert.equal(events.length, 30);
        for (const file of events) JSON.parse(readFileSync(file, "utf8"));
        const index = readFileSync(path.join(GUARDDUTY_FIXTURES, "INDEX.md"), "utf8");
        assert.match(index, /Total: 30 events\./);
        for (const file of events) assert.ok(index.includes(`\`${path.basename(file)}\``), `INDEX.md names ${path.basename(file)}`);
        for (const file of events) assert.ok(files.includes(path.relative(REPO, file)), `${path.relative(REPO, file)} is in the repository`);
    });

    it("every relative link in the README and the docs resolves, anchors included", () => {
        const docs = markdownFiles(files);
        assert.ok(docs.includes("README.md"));
        const problems = docs.flatMap((file) => linkTargets(readFileSync(path.join(REPO, file), "utf8")).map((t) => linkProblem(file, t))).filter(Boolean);
        assert.deepEqual(problems, []);
    });

    it("every `npm run <script>` named in the docs, CI and workflows exists in package.json", () => {
        const scripts = Object.keys((JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
        const named = [...markdownFiles(files), ".ci/run", ...files.filter((f) => f.startsWith(".github/"))].flatMap((file) =>
            npmScriptsNamed(readFileSync(path.join(REPO, file), "utf8")).map((name) => ({ file, name })),
        );
        assert.ok(named.some((n) => n.file === "README.md" && n.name === "drill"), "the README names npm run drill");
        assert.deepEqual(named.filter((n) => !scripts.includes(n.name)).map((n) => `${n.file}: npm run ${n.name}`), []);
    });
});

describe("the docs checks themselves", () => {
    it("find inline, image and reference links, and skip code", () => {
        const text = "See [a](docs/a.md) and ![pic](docs/p.png \"t\").\n\n[ref]: ../x.md\n\n```\n[no](code.md)\n```\nand `[no](span.md)`";
        assert.deepEqual(linkTargets(text), ["docs/a.md", "docs/p.png", "../x.md"]);
    });

    it("make GitHub's anchors, repeats numbered", () => {
        assert.deepEqual([...headingAnchors("# aws-dfir\n## Set up and test\n## The policy pack (`policy/`)\n## Set up and test\n")], [
            "aws-dfir",
            "set-up-and-test",
            "the-policy-pack-policy",
            "set-up-and-test-1",
        ]);
    });

    it("refuse a missing file, a missing anchor and a path outside the repository", () => {
        assert.match(String(linkProblem("README.md", "docs/nope.md")), /does not exist/);
        assert.match(String(linkProblem("README.md", "README.md#no-such-heading")), /no heading makes the anchor/);
        assert.match(String(linkProblem("README.md", "../outside.md")), /points outside the repository/);
        assert.equal(linkProblem("README.md", "https://example.com/x"), undefined);
        assert.equal(linkProblem("README.md", "package.json"), undefined);
    });

    it("name the scripts of npm run, -s and --silent included", () => {
        assert.deepEqual(npmScriptsNamed("npm run drill -- --x; npm run -s triage; npm run --silent bench:program; npm test"), ["drill", "triage", "bench:program"]);
    });
});
