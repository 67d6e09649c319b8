/**
 * Parsing of the Contain event (`{ case: CaseOpened }`, as OpenCase returned it) and of its parts that other
 * handlers share (the target). The shapes are declared once in ../lib/schemas.ts (zod); every problem is reported at
 * once, before any AWS call, and only known fields are kept.
 *
 * Example event (abridged):
 * `{"case":{"caseId":"i-0123456789abcdef0-3f2a1b4c5d6e","isNew":true,
 *   "target":{"accountId":"111122223333","region":"eu-west-1","instanceId":"i-0123456789abcdef0"},
 *   "findingIds":["60c2..."],"openedAt":"2025-01-02T03:04:05.000Z",
 *   "instance":{"instanceId":"i-0123456789abcdef0","state":"running","platform":"linux","vpcId":"vpc-0a1b2c3d",
 *     "networkInterfaces":[{"networkInterfaceId":"eni-0a","groups":["sg-01"],"deviceIndex":0,"ipv6Addresses":[]}],
 *     "volumes":[{"volumeId":"vol-0a","deviceName":"/dev/xvda","deleteOnTermination":true,"root":true}],
 *     "tags":{"Name":"web-1"},"disableApiTermination":false,"disableApiStop":false,"shutdownBehavior":"stop"},
 *   "approvalRequired":false,"skipContainment":false,
 *   "evidence":{"bucket":"dfir-evidence","prefix":"cases/i-0123456789abcdef0-3f2a1b4c5d6e/"}}}`
 */
import type { CaseOpened } from "../../core/workflow";
import * as z from "zod";
import { type Assignable, bool, type Declares, InstanceRecordSchema, MAX_TAG_VALUE_LENGTH, nonEmpty, parseEvent, sentence, stringAt, strings, TargetSchema } from "../lib/schemas";

export const CaseOpenedSchema = z
    .object(
        {
            caseId: nonEmpty().max(MAX_TAG_VALUE_LENGTH, { error: `must be at most ${MAX_TAG_VALUE_LENGTH} characters (it becomes a tag value)` }),
            isNew: bool(),
            target: TargetSchema,
            findingIds: strings(),
            openedAt: nonEmpty(),
            instance: InstanceRecordSchema,
            approvalRequired: bool(),
            skipContainment: bool(),
            skipReason: z.string().optional(),
            evidence: z.object({ bucket: nonEmpty(), prefix: nonEmpty() }, { error: "must be an object" }),
        },
        { error: "must be an object" },
    )
    .superRefine((c, ctx) => {
        if (c.instance.instanceId !== c.target.instanceId) {
            sentence(ctx, ["instance", "instanceId"], `${c.instance.instanceId} differs from case.target.instanceId ${c.target.instanceId}`);
        }
    });

/** The Contain event. A repeat delivery is `case.isNew === false`. */
export const ContainEventSchema = z.object({ case: CaseOpenedSchema }, { error: "must be an object" });

export type ContainEvent = z.infer<typeof ContainEventSchema>;

/** Parse `{ case: CaseOpened }`; throws {@link InvalidRequestError} listing every problem. */
export function parseContainEvent(input: unknown): ContainEvent {
    return parseEvent(ContainEventSchema, input, undefined, (raw) => ({
        instanceId: stringAt(raw, "case", "target", "instanceId"),
        caseId: stringAt(raw, "case", "caseId"),
    }));
}

/** The parsed case is the contract's CaseOpened (core/workflow.ts), checked at compile time. */
export type ParsedCaseIsCaseOpened = Assignable<ContainEvent["case"], CaseOpened>;

/** And the schema declares every field of CaseOpened (a field it left out would be stripped from every event). */
export const CASE_OPENED_DECLARED: Declares<z.input<typeof CaseOpenedSchema>, CaseOpened> = true;
