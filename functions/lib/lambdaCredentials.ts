/**
 * The credential provider the deployed bundles use in place of the SDK's default chain: components/bundle.ts has
 * esbuild resolve `@aws-sdk/credential-provider-node` (imported by every client's runtime config) to this module.
 *
 * In Lambda the function's execution role credentials are in the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: Lambda Developer Guide, "Defined runtime environment variables",
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime), and the
 * environment is the default chain's first source, so there the chain always ends at `fromEnv`. Its other sources
 * (shared files, SSO, login, web identity, process, container and instance metadata) and the nested STS/SSO clients
 * they carry are ~110 KB of code each cold start would parse for nothing. Credentials of a member account come from
 * AssumeRole (functions/lib/aws.ts), made with these. Outside the bundles (tests, the drill, the CLI) the SDK's own
 * chain is used.
 */
export { fromEnv as defaultProvider } from "@aws-sdk/credential-provider-env";
