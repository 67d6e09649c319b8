/**
 * The parts of @pulumi/aws this program uses, under the names the package root gives them
 * (`aws.s3.Bucket`, `aws.Provider`, ...). Importing the package's root makes the type checker read the declarations
 * of every AWS service (about 2,700 declaration files): a third of `tsc --noEmit`'s time. At run time the root is
 * loaded all the same (it registers the package with the Pulumi runtime), so nothing differs but what is checked.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("@pulumi/aws");

export * as cloudtrail from "@pulumi/aws/cloudtrail";
export * as cloudwatch from "@pulumi/aws/cloudwatch";
export * as dynamodb from "@pulumi/aws/dynamodb";
export * as ec2 from "@pulumi/aws/ec2";
export * as guardduty from "@pulumi/aws/guardduty";
export * as iam from "@pulumi/aws/iam";
export * as kms from "@pulumi/aws/kms";
export * as lambda from "@pulumi/aws/lambda";
export * as organizations from "@pulumi/aws/organizations";
export * as s3 from "@pulumi/aws/s3";
export * as sfn from "@pulumi/aws/sfn";
export * as sns from "@pulumi/aws/sns";
export * as sqs from "@pulumi/aws/sqs";
export * as ssm from "@pulumi/aws/ssm";
export * as vpc from "@pulumi/aws/vpc";
export { Provider, type ProviderArgs } from "@pulumi/aws/provider";
export { getAvailabilityZonesOutput } from "@pulumi/aws/getAvailabilityZones";
export { getCallerIdentityOutput } from "@pulumi/aws/getCallerIdentity";
export { getPartitionOutput } from "@pulumi/aws/getPartition";
export { getRegionOutput } from "@pulumi/aws/getRegion";
export { Region } from "@pulumi/aws/types/enums";
