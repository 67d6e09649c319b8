#!/usr/bin/env node
// The package's `dfir` bin and `npm run -s dfir`: runs cli/index.ts's main through ts-node (scripts/register-ts.js).
"use strict";
require("../scripts/register-ts.js");
const { main } = require("./index.ts");
main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    progress: process.stderr.isTTY === true,
}).then((code) => {
    process.exitCode = code;
});
