// How this repository runs its TypeScript: the npm scripts, mocha, the `dfir` bin and every process a test or script
// spawns load this file with `node -r`. ts-node, transpile-only, with swc as its transpiler (half the start-up time
// of TypeScript's own transpiler); types are checked apart, by `tsc --noEmit` in `npm test`.
// Deliberately not tsconfig.json's "ts-node" section: `pulumi up` loads this project's ts-node with tsconfig.json,
// and swc there would silently turn off the type check Pulumi runs on the program.
// It also turns on Node's compile cache (V8 code of every module loaded, kept on disk and reused while the source is
// the same), for this process and, through NODE_COMPILE_CACHE, the processes it starts: a test run starts dozens.
"use strict";
const path = require("node:path");
const compileCache = path.join(__dirname, "..", "node_modules", ".cache", "node-compile");
process.env.NODE_COMPILE_CACHE ??= compileCache;
require("node:module").enableCompileCache?.(process.env.NODE_COMPILE_CACHE);
require("ts-node").register({ transpileOnly: true, swc: true, project: path.join(__dirname, "..", "tsconfig.json") });
