/**
 * Triage: should the responder act on this event? One decision shared by the EventBridge rule (see
 * `core/pattern.ts`, built from the same options), the state machine's triage guard, and `npm run triage`.
 *
 * Five trigger kinds, one decision (`trigger` in the result): `guardduty` (GuardDuty findings on instances),
 * `credential-exfiltration` (GuardDuty `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*` on an AccessKey,
 * the instance named by the principal's role session name), `securityhub` (ASFF findings imported into Security
 * Hub, any product, EDR partners included, on an `AwsEc2Instance`), `tag` (`dfir:respond=contain|evidence` set on an
 * instance, EventBridge tag-change events), `manual` (`dfir respond`). Event shapes: core/triggers.ts.
 *
 * Reason codes (stable; the text after ": " is for humans and may change):
 *   not-an-object, not-guardduty (not any trigger's event; the name predates the other triggers), not-instance,
 *   severity-not-a-number, severity-below-minimum, invalid-instance-id, sample-finding,
 *   trigger-disabled (the kind is switched off in the options),
 *   record-archived (ASFF RecordState ARCHIVED), workflow-closed (ASFF Workflow.Status RESOLVED or SUPPRESSED),
 *   duplicate-of-guardduty (an ASFF finding of GuardDuty itself: GuardDuty is a direct trigger, so the same finding
 *   would otherwise start two responses), product-not-allowed (ASFF product not in the configured list, or named only in ProductFields while the
 *   rule filters on the top-level ProductName),
 *   tag-not-changed (dfir:respond not among the changed keys), tag-removed (dfir:respond deleted),
 *   tag-value-unknown (dfir:respond not contain/evidence), manual-incomplete (a manual request without account,
 *   region or requester), account-not-covered (an otherwise actionable event of an account that is not in
 *   `accountIds`, when the options list accounts; the rules reject the same events)   -> ignore
 *   actionable                            -> respond
 * For GuardDuty, every ignore code up to severity-below-minimum is also something the rule's event pattern
 * rejects; invalid-instance-id and sample-finding are decided only by the workflow's triage guard. The other
 * kinds' rules (core/pattern.ts) likewise pre-filter what they can express.
 */
import { describeJsonValue, parseFinding, type GuardDutyFinding } from "./finding";
import { ACCOUNT_ID } from "./ids";
import {
    CREDENTIAL_EXFILTRATION_PREFIX,
    isGuardDutyProduct,
    OPEN_WORKFLOW_STATUSES,
    parseInstanceRef,
    parseManualEvent,
    parseSecurityHubEvent,
    parseTagEvent,
    RESPOND_TAG,
    RESPOND_TAG_VALUES,
    SECURITYHUB_DETAIL_TYPE,
    SECURITYHUB_SOURCE,
    sessionInstanceId,
    SEVERITY_LABELS,
    type AsffSeverityLabel,
} from "./triggers";

export type TriggerKind = "guardduty" | "credential-exfiltration" | "securityhub" | "tag" | "manual";

/** The Security Hub trigger. */
export interface SecurityHubTriggerOptions {
    enabled: boolean;
    /** Lowest `Severity.Label` that triggers a response. @default "HIGH" */
    minLabel: AsffSeverityLabel;
    /** Only these `ProductName`s (e.g. an EDR partner's); empty = any product. @default [] */
    products: string[];
    /** Also respond to GuardDuty's own findings through Security Hub (they already arrive directly). @default false */
    includeGuardDuty: boolean;
}

export interface TriageOptions {
    /** Lowest GuardDuty severity that triggers a response, 1-10. There is no upper bound (Critical included). */
    minSeverity: number;
    /** Respond to GuardDuty sample findings (CreateSampleFindings), e.g. for an end-to-end test. */
    allowSamples: boolean;
    /** GuardDuty instance-credential-exfiltration findings (same minSeverity). @default true */
    credentialExfiltration: boolean;
    securityHub: SecurityHubTriggerOptions;
    /** The `dfir:respond` tag trigger. @default true */
    tagTrigger: boolean;
    /**
     * Respond only to events of these accounts (12-digit ids, sorted, none twice); empty = any account. A
     * multi-account stack's rules in a hub region list that region's member accounts, so several stacks can share
     * one hub account and organization without two of them answering the same finding (docs/many-accounts.md).
     * @default []
     */
    accountIds: string[];
}

export const DEFAULT_SECURITY_HUB: Readonly<SecurityHubTriggerOptions> = Object.freeze({ enabled: true, minLabel: "HIGH", products: [], includeGuardDuty: false });
export const DEFAULT_TRIAGE_OPTIONS: Readonly<TriageOptions> = Object.freeze({
    minSeverity: 7,
    allowSamples: false,
    credentialExfiltration: true,
    securityHub: DEFAULT_SECURITY_HUB,
    tagTrigger: true,
    accountIds: [],
});

/** Partial options: every key optional, the Security Hub ones too. */
export type TriageOptionsInput = Partial<Omit<TriageOptions, "securityHub">> & { securityHub?: Partial<SecurityHubTriggerOptions> };

export type Decision = "respond" | "ignore";

export interface TriageDecision {
    decision: Decision;
    /** `<reason-code>: <human detail>` */
    reason: string;
    /** Which trigger the event is (absent when it is none of them). */
    trigger?: TriggerKind;
    findingId?: string;
    findingType?: string;
    severity?: number;
    /** ASFF `Severity.Label` (securityhub). */
    severityLabel?: string;
    accountId?: string;
    region?: string;
    instanceId?: string;
    /** ASFF `ProductName` (securityhub). */
    product?: string;
    /** Evidence only, no containment (`dfir:respond=evidence`, `dfir respond --evidence-only`). */
    evidenceOnly?: boolean;
    /** Who asked (manual: the caller's ARN from STS GetCallerIdentity). */
    requestedBy?: string;
    /** Why (manual `--reason`). */
    requestReason?: string;
}

/** EC2 instance ids: `i-` plus 8 (pre-2016) or 17 lower-case hex digits. */
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export type SeverityLabel = "Low" | "Medium" | "High" | "Critical";

/**
 * GuardDuty's severity level for a score, so reasons read the way the console does. Boundaries are lower
 * bounds (Medium from 4, High from 7, Critical from 9): GuardDuty scores have one decimal, and a value between
 * the documented ranges (e.g. 6.95) falls in the lower level. Above 10 is Critical, below 1 Low.
 */
export function severityLabel(severity: number): SeverityLabel {
    if (severity >= 9) return "Critical";
    if (severity >= 7) return "High";
    if (severity >= 4) return "Medium";
    return "Low";
}

/**
 * Fill in defaults and reject values the rule could not express. Stack config and the Lambda's environment
 * both pass through here, so a typo fails the deployment instead of silently changing what gets contained.
 * Throws an Error with a one-line message naming the bad field.
 */
export function validateTriageOptions(o: TriageOptionsInput): TriageOptions {
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
        throw new Error("triage options must be an object");
    }
    const minSeverity = o.minSeverity ?? DEFAULT_TRIAGE_OPTIONS.minSeverity;
    const allowSamples = o.allowSamples ?? DEFAULT_TRIAGE_OPTIONS.allowSamples;
    const credentialExfiltration = o.credentialExfiltration ?? DEFAULT_TRIAGE_OPTIONS.credentialExfiltration;
    const tagTrigger = o.tagTrigger ?? DEFAULT_TRIAGE_OPTIONS.tagTrigger;
    if (o.securityHub !== undefined && (typeof o.securityHub !== "object" || o.securityHub === null || Array.isArray(o.securityHub))) {
        throw new Error(`securityHub must be an object, got ${describeJsonValue(o.securityHub)}`);
    }
    const sh = { ...DEFAULT_SECURITY_HUB, ...(o.securityHub ?? {}) };
    for (const [name, value] of Object.entries({ credentialExfiltration, tagTrigger, "securityHub.enabled": sh.enabled, "securityHub.includeGuardDuty": sh.includeGuardDuty })) {
        if (typeof value !== "boolean") throw new Error(`${name} must be a boolean, got ${describeJsonValue(value)}`);
    }
    if (!(SEVERITY_LABELS as readonly unknown[]).includes(sh.minLabel)) {
        throw new Error(`securityHub.minLabel must be one of ${SEVERITY_LABELS.join(", ")}, got ${describeJsonValue(sh.minLabel)}`);
    }
    if (!Array.isArray(sh.products) || sh.products.some((p) => typeof p !== "string" || p === "")) {
        throw new Error("securityHub.products must be a list of product names");
    }
    // Every listed product dropped (GuardDuty without includeGuardDuty) would leave the rule with no product filter
    // at all while triage ignores everything: every HIGH finding of any product would start an execution for nothing.
    if (sh.products.length > 0 && !sh.includeGuardDuty && sh.products.every((p) => p === "GuardDuty")) {
        throw new Error('securityHub.products lists only "GuardDuty", which is triaged directly: set includeGuardDuty to true, or list other products');
    }
    if (typeof minSeverity !== "number" || !Number.isFinite(minSeverity) || minSeverity < 1 || minSeverity > 10) {
        throw new Error(`minSeverity must be a number between 1 and 10, got ${describeJsonValue(minSeverity)}`);
    }
    if (typeof allowSamples !== "boolean") {
        throw new Error(`allowSamples must be a boolean, got ${describeJsonValue(allowSamples)}`);
    }
    const accountIds = o.accountIds ?? DEFAULT_TRIAGE_OPTIONS.accountIds;
    if (!Array.isArray(accountIds)) throw new Error(`accountIds must be a list of 12-digit account ids, got ${describeJsonValue(accountIds)}`);
    const badAccount = accountIds.find((a) => typeof a !== "string" || !ACCOUNT_ID.test(a));
    if (badAccount !== undefined) throw new Error(`accountIds must be 12-digit account ids, got ${describeJsonValue(badAccount)}`);
    return {
        minSeverity,
        allowSamples,
        credentialExfiltration,
        securityHub: { enabled: sh.enabled, minLabel: sh.minLabel, products: [...sh.products], includeGuardDuty: sh.includeGuardDuty },
        tagTrigger,
        accountIds: [...new Set(accountIds)].sort(),
    };
}

/** A string field for a reason text: quoted and cut short, or "missing". */
function quoted(value: string | undefined): string {
    if (value === undefined) return "missing";
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

/** Copies the finding's fields in the documented key order, leaving absent ones out entirely. */
function decide(decision: Decision, reason: string, finding?: GuardDutyFinding, trigger: TriggerKind = "guardduty"): TriageDecision {
    if (finding === undefined) return { decision, reason };
    const { findingId, findingType, severity, accountId, region, instanceId } = finding;
    return build(decision, reason, { trigger, findingId, findingType, severity, accountId, region, instanceId });
}

/**
 * Decide whether to respond to one event (EventBridge envelope or bare finding). Checks run in this order and
 * the first failure is the reason: object, GuardDuty, resourceType "Instance" (never the presence of
 * instanceDetails, which S3Bucket/AccessKey/Container findings carry too), numeric severity >= minSeverity,
 * well-formed instance id, not a sample unless allowed. Never throws on a JSON value; throws only on bad options.
 */
export function triage(event: unknown, options: TriageOptionsInput = {}): TriageDecision {
    const o = validateTriageOptions(options);
    const decision = triageKinds(event, o);
    // The account filter last, on what would be answered: the rules (core/pattern.ts) reject the same events.
    if (decision.decision === "respond" && o.accountIds.length > 0 && (decision.accountId === undefined || !o.accountIds.includes(decision.accountId))) {
        return { ...decision, decision: "ignore", reason: `account-not-covered: account ${quoted(decision.accountId)} is not one of the ${o.accountIds.length} this stack responds for` };
    }
    return decision;
}

function triageKinds(event: unknown, o: TriageOptions): TriageDecision {
    const { minSeverity, allowSamples } = o;
    if (typeof event === "object" && event !== null && !Array.isArray(event)) {
        const e = event as Record<string, unknown>;
        const manual = triageManual(e);
        if (manual) return manual;
        // A bare ASFF finding (GetFindings shape) is triaged as if Security Hub had delivered it.
        const bare = !("source" in e) && !("detail" in e) && typeof e.ProductArn === "string" && typeof e.SchemaVersion === "string";
        const hub = triageSecurityHub(bare ? { source: SECURITYHUB_SOURCE, "detail-type": SECURITYHUB_DETAIL_TYPE, detail: { findings: [e] } } : e, o);
        if (hub) return hub;
        const tag = triageTag(e, o);
        if (tag) return tag;
    }
    const parsed = parseFinding(event);
    if (!parsed.ok) return decide("ignore", `${parsed.problem}: ${parsed.detail}`);
    const finding = parsed.finding;
    if (finding.resourceType === "AccessKey" && finding.findingType?.startsWith(CREDENTIAL_EXFILTRATION_PREFIX)) {
        return triageExfiltration(finding, o);
    }

    if (finding.resourceType !== "Instance") {
        return decide("ignore", `not-instance: resourceType is ${quoted(finding.resourceType)}, expected "Instance"`, finding);
    }
    if (finding.severity === undefined) {
        return decide("ignore", `severity-not-a-number: severity is ${describeJsonValue(finding.rawSeverity)}`, finding);
    }
    if (finding.severity < minSeverity) {
        return decide("ignore", `severity-below-minimum: ${finding.severity} < ${minSeverity}`, finding);
    }
    if (finding.instanceId === undefined || !INSTANCE_ID_PATTERN.test(finding.instanceId)) {
        return decide("ignore", `invalid-instance-id: instanceDetails.instanceId is ${quoted(finding.instanceId)}`, finding);
    }
    if (finding.sample && !allowSamples) {
        return decide("ignore", "sample-finding: GuardDuty sample finding and allowSamples is off", finding);
    }
    const label = severityLabel(finding.severity);
    return decide("respond", `actionable: ${label} severity ${finding.severity} finding on instance ${finding.instanceId}`, finding);
}

/** Build a decision in the documented key order from the fields given (undefined ones left out). */
function build(decision: Decision, reason: string, fields: Omit<TriageDecision, "decision" | "reason">): TriageDecision {
    const result: TriageDecision = { decision, reason };
    const order = ["trigger", "findingId", "findingType", "severity", "severityLabel", "accountId", "region", "instanceId", "product", "evidenceOnly", "requestedBy", "requestReason"] as const;
    for (const key of order) {
        if (fields[key] !== undefined) (result as unknown as Record<string, unknown>)[key] = fields[key];
    }
    return result;
}

/** GuardDuty instance-credential-exfiltration: same severity floor and sample rule, the instance from the session name. */
function triageExfiltration(finding: GuardDutyFinding, o: TriageOptions): TriageDecision {
    const instanceId = sessionInstanceId(finding.principalId);
    const out = (d: Decision, r: string) =>
        build(d, r, {
            trigger: "credential-exfiltration",
            findingId: finding.findingId,
            findingType: finding.findingType,
            severity: finding.severity,
            accountId: finding.accountId,
            region: finding.region,
            instanceId,
        });
    if (!o.credentialExfiltration) return out("ignore", "trigger-disabled: credentialExfiltration is off");
    if (finding.severity === undefined) return out("ignore", `severity-not-a-number: severity is ${describeJsonValue(finding.rawSeverity)}`);
    if (finding.severity < o.minSeverity) return out("ignore", `severity-below-minimum: ${finding.severity} < ${o.minSeverity}`);
    if (instanceId === undefined || !INSTANCE_ID_PATTERN.test(instanceId)) {
        return out("ignore", `invalid-instance-id: the role session name of accessKeyDetails.principalId is ${quoted(instanceId)}, expected an instance id`);
    }
    if (finding.sample && !o.allowSamples) return out("ignore", "sample-finding: GuardDuty sample finding and allowSamples is off");
    return out("respond", `actionable: ${severityLabel(finding.severity)} severity ${finding.severity} credential exfiltration of instance ${instanceId}'s role credentials`);
}

/** Security Hub (ASFF) findings; undefined when the event is not from Security Hub. */
function triageSecurityHub(event: Record<string, unknown>, o: TriageOptions): TriageDecision | undefined {
    const parsed = parseSecurityHubEvent(event);
    if (parsed === undefined) return undefined;
    if (!parsed.ok) return build("ignore", `not-guardduty: ${parsed.detail}`, { trigger: "securityhub" });
    const f = parsed.finding;
    const instanceId = parseInstanceRef(f.resourceRef).instanceId;
    const out = (d: Decision, r: string) =>
        build(d, r, { trigger: "securityhub", findingId: f.findingId, findingType: f.findingType, severityLabel: f.label, accountId: f.accountId, region: f.region, instanceId, product: f.productName });
    const sh = o.securityHub;
    if (!sh.enabled) return out("ignore", "trigger-disabled: securityHub.enabled is off");
    if (f.resourceRef === undefined) return out("ignore", `not-instance: no AwsEc2Instance resource (resource types ${f.resourceTypes.map((t) => JSON.stringify(t)).join(", ") || "none"})`);
    if (f.recordState !== "ACTIVE") return out("ignore", `record-archived: RecordState is ${quoted(f.recordState)}, expected "ACTIVE"`);
    if (!(OPEN_WORKFLOW_STATUSES as readonly (string | undefined)[]).includes(f.workflowStatus)) {
        return out("ignore", `workflow-closed: Workflow.Status is ${quoted(f.workflowStatus)}, expected NEW or NOTIFIED`);
    }
    if (isGuardDutyProduct(f) && !sh.includeGuardDuty) {
        return out("ignore", "duplicate-of-guardduty: GuardDuty's own finding through Security Hub; GuardDuty findings are triaged directly");
    }
    // The rule's product filter (a list, or anything but GuardDuty) matches the top-level ProductName only: a finding
    // that names its product only in ProductFields never reaches the guard, and triage says the same.
    if ((sh.products.length > 0 || !sh.includeGuardDuty) && !f.productNameTopLevel) {
        return out("ignore", `product-not-allowed: no top-level ProductName (only ProductFields names ${quoted(f.productName)}): the rule's product filter matches ProductName`);
    }
    if (sh.products.length > 0 && (f.productName === undefined || !sh.products.includes(f.productName))) {
        return out("ignore", `product-not-allowed: ProductName ${quoted(f.productName)} is not one of ${sh.products.map((p) => JSON.stringify(p)).join(", ")}`);
    }
    const rank = (SEVERITY_LABELS as readonly (string | undefined)[]).indexOf(f.label);
    if (rank < 0) return out("ignore", `severity-not-a-number: Severity.Label is ${describeJsonValue(f.rawLabel)}`);
    if (rank < SEVERITY_LABELS.indexOf(sh.minLabel)) return out("ignore", `severity-below-minimum: ${f.label} < ${sh.minLabel}`);
    if (instanceId === undefined || !INSTANCE_ID_PATTERN.test(instanceId)) return out("ignore", `invalid-instance-id: AwsEc2Instance Id is ${quoted(f.resourceRef)}`);
    if (f.sample && !o.allowSamples) return out("ignore", "sample-finding: ASFF Sample is true and allowSamples is off");
    return out("respond", `actionable: ${f.label} ${f.productName ?? "Security Hub"} finding on instance ${instanceId}`);
}

/** `dfir:respond` tag changes; undefined when the event is not a tag change. */
function triageTag(event: Record<string, unknown>, o: TriageOptions): TriageDecision | undefined {
    const parsed = parseTagEvent(event);
    if (parsed === undefined) return undefined;
    if (!parsed.ok) return build("ignore", `not-guardduty: ${parsed.detail}`, { trigger: "tag" });
    const c = parsed.change;
    const instanceId = c.resourceRef === undefined ? undefined : parseInstanceRef(c.resourceRef).instanceId;
    const evidenceOnly = c.value === "evidence" ? true : undefined;
    const out = (d: Decision, r: string) =>
        build(d, r, { trigger: "tag", findingId: c.eventId === undefined ? undefined : `tag:${c.eventId}`, findingType: c.value === undefined ? undefined : `${RESPOND_TAG}=${c.value}`, accountId: c.accountId, region: c.region, instanceId, evidenceOnly });
    if (!o.tagTrigger) return out("ignore", "trigger-disabled: tagTrigger is off");
    if (c.service !== "ec2" || c.resourceType !== "instance") return out("ignore", `not-instance: the tag changed on ${quoted(c.service)} ${quoted(c.resourceType)}, expected ec2 instance`);
    if (!c.changed) return out("ignore", `tag-not-changed: ${RESPOND_TAG} is not among the changed tag keys`);
    if (c.value === undefined) return out("ignore", `tag-removed: ${RESPOND_TAG} was deleted`);
    if (!(RESPOND_TAG_VALUES as readonly string[]).includes(c.value)) {
        return out("ignore", `tag-value-unknown: ${RESPOND_TAG} is ${quoted(c.value)}, expected ${RESPOND_TAG_VALUES.join(" or ")}`);
    }
    if (instanceId === undefined || !INSTANCE_ID_PATTERN.test(instanceId)) return out("ignore", `invalid-instance-id: resources[0] is ${quoted(c.resourceRef)}`);
    return out("respond", `actionable: ${RESPOND_TAG}=${c.value} set on instance ${instanceId}${evidenceOnly ? " (evidence only)" : ""}`);
}

/** `dfir respond` requests; undefined when the event is not one. Manual requests are never disabled. */
function triageManual(event: Record<string, unknown>): TriageDecision | undefined {
    const r = parseManualEvent(event);
    if (r === undefined) return undefined;
    const out = (d: Decision, reason: string) =>
        build(d, reason, {
            trigger: "manual",
            findingId: r.requestId === undefined ? undefined : `manual:${r.requestId}`,
            findingType: "Manual",
            accountId: r.accountId,
            region: r.region,
            instanceId: r.instanceId,
            evidenceOnly: r.evidenceOnly ? true : undefined,
            requestedBy: r.requestedBy,
            requestReason: r.reason,
        });
    if (r.requestId === undefined || r.accountId === undefined || r.region === undefined || r.requestedBy === undefined) {
        return out("ignore", "manual-incomplete: a manual request names its request id, account, region and requester");
    }
    if (r.instanceId === undefined || !INSTANCE_ID_PATTERN.test(r.instanceId)) return out("ignore", `invalid-instance-id: instanceId is ${quoted(r.instanceId)}`);
    return out("respond", `actionable: manual response on instance ${r.instanceId} requested by ${r.requestedBy}${r.evidenceOnly ? " (evidence only)" : ""}`);
}
