// How this repository runs its TypeScript: the npm scripts, mocha, the `dfir` bin and every process a test or script
// spawns load this file with `node -r`. ts-node, transpile-only, with swc as its transpiler (half the start-up time
// of TypeScript's own transpiler); types are checked apart, by `tsc --noEmit` in `npm test`.
// Deliberately not tsconfig.json's "ts-node" section: `pulumi up` loads this project's ts-node with tsconfig.json,
// and swc there would silently turn off the type check Pulumi runs on the program.
"use strict";
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, swc: true, project: path.join(__dirname, "..", "tsconfig.json") });
