/**
 * The shapes of AWS identifiers the project checks, in one place: the stack config, the event policies, the member
 * policies and the functions' event schemas all test against these.
 *
 * Account ids are 12 digits ("AWS account identifiers", AWS Account Management Reference Guide). Region names are an area
 * of two to four letters, one or more words and a number (`us-east-1`, `us-gov-west-1`, `ap-southeast-5`, the
 * European Sovereign Cloud's `eusc-de-east-1`; core/regions.ts lists the known ones, a test holds them to this). A role ARN is `arn:<partition>:iam::<account>:role/<path><name>`, the name
 * and path of IAM's allowed characters ("IAM identifiers", IAM User Guide).
 */
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
