/**
 * The aws-dfir policy pack: `pulumi preview --policy-pack ./policy` (after `npm ci`, which compiles it to
 * bin/). Constructing the PolicyPack starts its gRPC server, so this is the only module that does it.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
    description: "aws-dfir guard rails: locked private evidence buckets, isolation groups that admit nothing and reach only the evidence endpoints, a response that hears every high-severity finding.",
    provider: "aws",
    tags: ["aws", "incident-response", "forensics"],
    policies,
});
