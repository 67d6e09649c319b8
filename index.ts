/**
 * aws-dfir: `pulumi up` entry point. Reads the stack's `dfir:*` config (unknown keys and a missing VPC id stop
 * the preview with a message naming the key) and deploys one account and region.
 */
import * as pulumi from "@pulumi/pulumi";
import { dfirKeys, parseDfirConfig } from "./core/config";
import { deployDfir } from "./components/dfirStack";

const outputs = deployDfir(parseDfirConfig(dfirKeys(pulumi.runtime.allConfig())));

export const detectorId = outputs.detectorId;
export const evidenceBucket = outputs.evidenceBucket;
export const isolationSecurityGroupId = outputs.isolationSecurityGroupId;
export const stateMachineArn = outputs.stateMachineArn;
export const notificationTopicArn = outputs.notificationTopicArn;
export const deadLetterQueueUrl = outputs.deadLetterQueueUrl;
export const casesTableName = outputs.casesTableName;
export const denyModifyIsolatedPolicyArn = outputs.denyModifyIsolatedPolicyArn;
