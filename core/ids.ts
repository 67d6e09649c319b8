/**
 * The shapes of AWS identifiers the project checks, in one place: the stack config, the event policies, the member
 * policies and the functions' event schemas all test against these.
 *
 * Account ids are 12 digits ("AWS account identifiers", AWS Account Management Reference Guide). Region names are an area
 * of two to four letters, one or more words and a number (`us-east-1`, `us-gov-west-1`, `ap-southeast-5`, the
 * European Sovereign Cloud's `eusc-de-east-1`; core/regions.ts lists the known ones, a test holds them to this). A role ARN is `arn:<partition>:iam::<account>:role/<path><name>`, the name
 * and path of IAM's allowed characters ("IAM identifiers", IAM User Guide). An EC2 resource id is its type's prefix and
 * 8 or 17 lower-case hex digits ("Resource IDs", Amazon EC2 User Guide: 8 before 2016, 17 since).
 */
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** An IAM role name: 1 to 64 letters, digits and `+=,.@_-` ("IAM identifiers"). */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
export const INSTANCE_PROFILE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]+$/;
/** A DynamoDB table name: 3 to 255 letters, digits and `_.-`. */
export const TABLE_NAME = /^[\w.-]{3,255}$/;

const ec2Id = (prefix: string) => new RegExp(`^${prefix}-[0-9a-f]{8}(?:[0-9a-f]{9})?$`);
export const VPC_ID = ec2Id("vpc");
export const SECURITY_GROUP_ID = ec2Id("sg");
export const SUBNET_ID = ec2Id("subnet");
export const ROUTE_TABLE_ID = ec2Id("rtb");
export const AMI_ID = ec2Id("ami");
