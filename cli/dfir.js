#!/usr/bin/env node
// The package's `dfir` bin: runs cli/index.ts through ts-node (transpile only), exactly as `npm run -s dfir` does.
"use strict";
const path = require("node:path");
require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
const { main } = require("./index.ts");
main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    progress: process.stderr.isTTY === true,
}).then((code) => {
    process.exitCode = code;
});
