"use strict";
// `npm test`: the type check and mocha at the same time, not one after the other (on two cores the ~25 s check
// otherwise runs with one core idle). The check is one TypeScript program over the program, the pack and the tests
// (tsconfig.json): checking the pack again under policy/tsconfig.json cost ~6 s of CPU for no file the first did not
// check; its own options are still applied where it is compiled, by `npm ci` (prepare) and `npm run policy:build`.
// Mocha's output passes through as it comes, except its closing "N passed, N failed" line, held until the check
// ends: a failed check prints its errors, counts as one more failure in that line, and fails the run. Run from the
// repository root by npm (Node 22 from the devDependency).
const { spawn } = require("node:child_process");
const readline = require("node:readline");

const SUMMARY = /^(\d+) passed, (\d+) failed(.*)$/;

const typecheck = new Promise((resolve) => {
    const child = spawn("npm", ["run", "-s", "typecheck"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ ok: code === 0, output }));
});

const mocha = spawn(process.execPath, [require.resolve("mocha/bin/mocha.js"), ...process.argv.slice(2)], { stdio: ["ignore", "pipe", "inherit"] });
let summary;
readline.createInterface({ input: mocha.stdout }).on("line", (line) => {
    if (SUMMARY.test(line)) summary = line;
    else process.stdout.write(`${line}\n`);
});
mocha.on("close", async (code) => {
    const checked = await typecheck;
    let exit = code ?? 1;
    if (!checked.ok) {
        process.stdout.write(`\ntype check (npm run typecheck) FAILED:\n${checked.output}\n`);
        exit = 1;
    }
    const m = summary && SUMMARY.exec(summary);
    if (m) process.stdout.write(`${m[1]} passed, ${Number(m[2]) + (checked.ok ? 0 : 1)} failed${m[3]}\n`);
    else process.stdout.write(`mocha printed no summary line (exit ${code})\n`);
    process.exit(exit);
});
