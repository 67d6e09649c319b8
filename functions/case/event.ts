/**
 * The OpenCase event: the triage verdict, the execution, and optionally a target decided upstream.
 *
 * Example: `{"verdict":{"decision":"respond","reason":"actionable: ...","findingId":"60c2...",
 *   "findingType":"Backdoor:EC2/C&CActivity.B!DNS","severity":8,"accountId":"111122223333","region":"eu-west-1",
 *   "instanceId":"i-0123456789abcdef0","caseId":"i-0123456789abcdef0-3f2a1b4c5d6e"},
 *   "executionArn":"arn:aws:states:eu-west-1:111122223333:execution:dfir-response:3b1c..."}`
 */
import { INSTANCE_ID_PATTERN } from "../../core/triage";
import * as z from "zod";
import { ACCOUNT_ID, REGION } from "../../core/ids";
import { MAX_TAG_VALUE_LENGTH, matching, nonEmpty, parseEvent, sentence, stringAt, TargetSchema } from "../lib/schemas";

/** The fields of the triage verdict OpenCase uses (others are dropped). */
const VerdictSchema = z.object(
    {
        decision: z.literal("respond", { error: 'must be "respond"' }),
        findingId: nonEmpty(),
        accountId: matching(ACCOUNT_ID, "12 digits"),
        region: matching(REGION, "an AWS region"),
        instanceId: matching(INSTANCE_ID_PATTERN, "an EC2 instance id"),
        caseId: nonEmpty().max(MAX_TAG_VALUE_LENGTH, { error: `must be at most ${MAX_TAG_VALUE_LENGTH} characters (it becomes a tag value)` }),
        findingType: z.string().optional().catch(undefined),
        severity: z.number().optional().catch(undefined),
        /** Which trigger started the response (core/triage.ts TriggerKind), and what the case records of it. */
        trigger: z.enum(["guardduty", "credential-exfiltration", "securityhub", "tag", "manual"]).optional().catch(undefined),
        product: z.string().optional().catch(undefined),
        evidenceOnly: z.boolean().optional().catch(undefined),
        requestedBy: z.string().optional().catch(undefined),
        requestReason: z.string().optional().catch(undefined),
    },
    { error: "must be an object" },
);

export const OpenCaseEventSchema = z
    .object(
        {
            verdict: VerdictSchema,
            executionArn: z.string({ error: "must be an ARN" }).startsWith("arn:", { error: "must be an ARN" }),
            /** A target decided upstream (e.g. with a role); must name the verdict's instance. */
            target: TargetSchema.optional(),
        },
        { error: "must be an object" },
    )
    .superRefine((e, ctx) => {
        if (e.target && e.target.instanceId !== e.verdict.instanceId) {
            sentence(ctx, ["target", "instanceId"], `${e.target.instanceId} differs from verdict.instanceId ${e.verdict.instanceId}`);
        }
    })
    .transform(({ verdict: { decision: _decision, ...verdict }, ...event }) => ({
        ...event,
        // Absent optional fields stay absent (not undefined).
        verdict: Object.fromEntries(Object.entries(verdict).filter(([, v]) => v !== undefined)) as Omit<typeof verdict, never>,
    }));

export type OpenCaseEvent = z.infer<typeof OpenCaseEventSchema>;
export type VerdictInput = OpenCaseEvent["verdict"];

export function parseOpenCaseEvent(input: unknown): OpenCaseEvent {
    return parseEvent(OpenCaseEventSchema, input, undefined, (raw) => ({
        instanceId: stringAt(raw, "verdict", "instanceId"),
        caseId: stringAt(raw, "verdict", "caseId"),
    }));
}
