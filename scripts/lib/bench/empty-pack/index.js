// A policy pack with no policies: what the Analyzer protocol and @pulumi/policy cost on their own.
"use strict";
const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("dfir-bench-empty", { policies: [] });
