"use strict";
// Mocha's configuration. The test files run on two workers, handed out in this list's order to whichever worker is
// free: the longest files go first, so that no long file starts last while the other worker sits idle (in file
// name order, test/policy-check.test.ts, ~40 s alone, started near the end and set the suite's wall time).
const fs = require("node:fs");
const path = require("node:path");

/** The longest files, longest first (measured one by one; `npm run bench` reports the whole suite's time). */
const LONGEST_FIRST = [
    "policy-check",
    "ssm-document",
    "drill",
    "dfir-cli",
    "multi-account-program",
    "drill-account",
    "drill-memory-verification",
    "bench",
    "bundle",
    "components",
    "policy-pack-prod",
];

const files = fs.readdirSync(path.join(__dirname, "test")).filter((f) => f.endsWith(".test.ts")).sort();
const first = LONGEST_FIRST.map((name) => `${name}.test.ts`).filter((f) => files.includes(f));

module.exports = {
    require: ["./scripts/register-ts.js"],
    extension: ["ts"],
    spec: [...first, ...files.filter((f) => !first.includes(f))].map((f) => path.join("test", f)),
    reporter: "test/support/summary-reporter.js",
    timeout: 60000,
    "node-option": ["no-experimental-strip-types"],
    parallel: true,
    jobs: 2,
};
