/**
 * Recognising the other trigger events: pure, no I/O, never throws on a JSON value. `core/triage.ts` decides on
 * what these return; `core/pattern.ts` builds each kind's EventBridge rule from the same constants.
 *
 * AWS pages followed (what each field means and where the instance sits):
 * - Security Hub "EventBridge event formats for Security Hub CSPM" (securityhub-cwe-event-formats): source
 *   `aws.securityhub`, detail-type `Security Hub Findings - Imported`, `detail.findings` holds ONE ASFF finding.
 * - ASFF: `Severity.Label` INFORMATIONAL|LOW|MEDIUM|HIGH|CRITICAL, `Workflow.Status` NEW|NOTIFIED|RESOLVED|SUPPRESSED,
 *   `RecordState` ACTIVE|ARCHIVED, `Resources[].Type` `AwsEc2Instance` with `Id` the instance ARN (securityhub-findings-format,
 *   asff-required-attributes, asff-resourcedetails-awsec2instance); `ProductName`/`CompanyName` (top level, and in
 *   older findings only as `ProductFields["aws/securityhub/ProductName"]`, as in GuardDuty's "Typical finding from
 *   GuardDuty", GuardDuty user guide securityhub-integration), `Sample` for sample findings.
 * - Tags: "Monitor tag changes with serverless workflows and Amazon EventBridge" (tag-editor/latest/userguide/
 *   tag-monitor.html): source `aws.tag`, detail-type `Tag Change on Resource`, `resources[0]` the resource ARN,
 *   `detail.changed-tag-keys` (added, changed or deleted keys), `detail.tags` (the tags after the change),
 *   `detail.service` / `detail.resource-type` (`ec2` / `instance`). Delivery is best effort (EventBridge "Tags events").
 * - Credential exfiltration: GuardDuty IAM finding types (guardduty_finding-types-iam): resource type AccessKey;
 *   `resource.accessKeyDetails.principalId` is `<role id>:<role session name>` (Knowledge Center
 *   "resolve-guardduty-credential-alerts": replace your-roleId:your-role-session-name with the Principal ID), and
 *   credentials EC2 delivers to an instance profile carry the instance id as their role session name. That last
 *   part is an ASSUMPTION: it is what GuardDuty's and CloudTrail's examples show (`assumed-role/<role>/i-...`), but no
 *   AWS page read here states it (docs/limitations.md); a finding whose session name is not an instance id is ignored.
 */
import { instanceArn } from "./containmentPolicies";
import { describeJsonValue, field, isObject, text } from "./finding";

export const SECURITYHUB_SOURCE = "aws.securityhub";
export const SECURITYHUB_DETAIL_TYPE = "Security Hub Findings - Imported";
export const TAG_SOURCE = "aws.tag";
export const TAG_DETAIL_TYPE = "Tag Change on Resource";
/** The tag a team's EDR or SOAR sets on an instance to start the response; its values. */
export const RESPOND_TAG = "dfir:respond";
export const RESPOND_TAG_VALUES = ["contain", "evidence"] as const;
export type RespondTagValue = (typeof RESPOND_TAG_VALUES)[number];
/** `dfir respond`: the execution input the CLI starts the state machine with (never an EventBridge event). */
export const MANUAL_SOURCE = "dfir.manual";
export const MANUAL_DETAIL_TYPE = "Manual Response Request";
/** GuardDuty's instance-credential-exfiltration types (`.OutsideAWS`, `.InsideAWS`): the shared prefix. */
export const CREDENTIAL_EXFILTRATION_PREFIX = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration";

export const SEVERITY_LABELS = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type AsffSeverityLabel = (typeof SEVERITY_LABELS)[number];
/** Workflow statuses a response still applies to; RESOLVED and SUPPRESSED are closed by a person or a rule. */
export const OPEN_WORKFLOW_STATUSES = ["NEW", "NOTIFIED"] as const;

/** The labels at or above `min`, in order (what the rule's pattern lists). */
export function labelsFrom(min: AsffSeverityLabel): AsffSeverityLabel[] {
    return SEVERITY_LABELS.slice(SEVERITY_LABELS.indexOf(min));
}

type Json = Record<string, unknown>;

/** `arn:<partition>:ec2:<region>:<account>:instance/<id>` -> its parts; a bare `i-...` id -> the id only. */
export function parseInstanceRef(ref: string | undefined): { instanceId?: string; accountId?: string; region?: string } {
    if (ref === undefined) return {};
    const arn = /^arn:[^:]+:ec2:([^:]*):(\d{12}):instance\/(.+)$/.exec(ref);
    if (arn) return { region: arn[1] || undefined, accountId: arn[2], instanceId: arn[3] };
    return { instanceId: ref };
}

export interface AsffFinding {
    findingId?: string;
    findingType?: string;
    label?: string;
    rawLabel: unknown;
    accountId?: string;
    region?: string;
    /** The first `AwsEc2Instance` resource's `Id` as found (ARN or id). */
    resourceRef?: string;
    resourceTypes: string[];
    productName?: string;
    /**
     * `ProductName` is the finding's own top-level attribute (not only `ProductFields["aws/securityhub/ProductName"]`,
     * as in older findings): the rule's product filter matches only the top-level one.
     */
    productNameTopLevel: boolean;
    productArn?: string;
    companyName?: string;
    workflowStatus?: string;
    recordState?: string;
    sample: boolean;
}

/** The one ASFF finding of a `Security Hub Findings - Imported` event (undefined when it is not one). */
export function parseSecurityHubEvent(event: Json): { ok: true; finding: AsffFinding } | { ok: false; detail: string } | undefined {
    if (field(event, "source") !== SECURITYHUB_SOURCE) return undefined;
    if (field(event, "detail-type") !== SECURITYHUB_DETAIL_TYPE) {
        return { ok: false, detail: `detail-type is ${describeJsonValue(field(event, "detail-type"))}, expected "${SECURITYHUB_DETAIL_TYPE}"` };
    }
    const findings = field(event, "detail", "findings");
    if (!Array.isArray(findings) || !isObject(findings[0])) return { ok: false, detail: "detail.findings holds no finding object" };
    const f = findings[0];
    const resources = Array.isArray(f.Resources) ? f.Resources.filter(isObject) : [];
    const instance = resources.find((r) => r.Type === "AwsEc2Instance");
    const types = Array.isArray(f.Types) ? f.Types.filter((t): t is string => typeof t === "string") : [];
    const ref = parseInstanceRef(text(instance?.Id));
    const out: AsffFinding = {
        rawLabel: field(f, "Severity", "Label"),
        resourceTypes: resources.flatMap((r) => (typeof r.Type === "string" ? [r.Type] : [])),
        sample: f.Sample === true,
        productNameTopLevel: text(f.ProductName) !== undefined,
    };
    const set = <K extends keyof AsffFinding>(key: K, value: AsffFinding[K] | undefined) => {
        if (value !== undefined) out[key] = value;
    };
    set("findingId", text(f.Id));
    set("findingType", types[0]);
    set("label", text(field(f, "Severity", "Label")));
    set("accountId", text(f.AwsAccountId) ?? ref.accountId);
    set("region", text(instance?.Region) ?? ref.region ?? text(f.Region) ?? text(event.region));
    set("resourceRef", text(instance?.Id));
    set("productName", text(f.ProductName) ?? text(field(f, "ProductFields", "aws/securityhub/ProductName")));
    set("companyName", text(f.CompanyName) ?? text(field(f, "ProductFields", "aws/securityhub/CompanyName")));
    set("productArn", text(f.ProductArn));
    set("workflowStatus", text(field(f, "Workflow", "Status")));
    set("recordState", text(f.RecordState));
    return { ok: true, finding: out };
}

/** Whether an ASFF finding is GuardDuty's own (it also reaches the responder directly). */
export function isGuardDutyProduct(f: AsffFinding): boolean {
    return f.productName === "GuardDuty" || /^arn:[^:]+:securityhub:[^:]*::product\/aws\/guardduty$/.test(f.productArn ?? "");
}

/** The instance id a credential-exfiltration finding names: the role session name of its principal id. */
export function sessionInstanceId(principalId: unknown): string | undefined {
    if (typeof principalId !== "string") return undefined;
    const at = principalId.indexOf(":");
    return at < 0 ? undefined : principalId.slice(at + 1) || undefined;
}

export interface TagChange {
    eventId?: string;
    accountId?: string;
    region?: string;
    resourceRef?: string;
    service?: string;
    resourceType?: string;
    changed: boolean;
    /** `dfir:respond` after the change; undefined when the key was deleted or is absent. */
    value?: string;
}

/** A `Tag Change on Resource` event (undefined when it is not one). */
export function parseTagEvent(event: Json): { ok: true; change: TagChange } | { ok: false; detail: string } | undefined {
    if (field(event, "source") !== TAG_SOURCE) return undefined;
    if (field(event, "detail-type") !== TAG_DETAIL_TYPE) {
        return { ok: false, detail: `detail-type is ${describeJsonValue(field(event, "detail-type"))}, expected "${TAG_DETAIL_TYPE}"` };
    }
    const detail = field(event, "detail");
    if (!isObject(detail)) return { ok: false, detail: `detail is ${describeJsonValue(detail)}, expected an object` };
    const changedKeys = Array.isArray(detail["changed-tag-keys"]) ? detail["changed-tag-keys"] : [];
    const resources = Array.isArray(event.resources) ? event.resources : [];
    const change: TagChange = { changed: changedKeys.includes(RESPOND_TAG) };
    const set = <K extends keyof TagChange>(key: K, value: TagChange[K] | undefined) => {
        if (value !== undefined) change[key] = value;
    };
    const ref = parseInstanceRef(text(resources[0]));
    set("eventId", text(event.id));
    set("accountId", ref.accountId ?? text(event.account));
    set("region", ref.region ?? text(event.region));
    set("resourceRef", text(resources[0]));
    set("service", text(detail.service));
    set("resourceType", text(detail["resource-type"]));
    set("value", typeof field(detail, "tags", RESPOND_TAG) === "string" ? (field(detail, "tags", RESPOND_TAG) as string) : undefined);
    return { ok: true, change };
}

export interface ManualRequest {
    requestId?: string;
    accountId?: string;
    region?: string;
    instanceId?: string;
    requestedBy?: string;
    reason?: string;
    evidenceOnly: boolean;
}

/** The `dfir respond` execution input (undefined when it is not one). */
export function parseManualEvent(event: Json): ManualRequest | undefined {
    if (field(event, "source") !== MANUAL_SOURCE || field(event, "detail-type") !== MANUAL_DETAIL_TYPE) return undefined;
    const d = field(event, "detail");
    const r: ManualRequest = { evidenceOnly: field(d, "evidenceOnly") === true };
    for (const key of ["requestId", "accountId", "region", "instanceId", "requestedBy", "reason"] as const) {
        const v = text(field(d, key));
        if (v !== undefined) r[key] = v;
    }
    return r;
}

/** The `dfir respond` execution input for a request: what the CLI sends and `triage()` accepts. */
export function manualEvent(r: { requestId: string; accountId: string; region: string; instanceId: string; requestedBy: string; reason?: string; evidenceOnly: boolean; time: string }): Json {
    return {
        version: "0",
        id: r.requestId,
        "detail-type": MANUAL_DETAIL_TYPE,
        source: MANUAL_SOURCE,
        account: r.accountId,
        time: r.time,
        region: r.region,
        resources: [instanceArn(r.region, r.accountId, r.instanceId)],
        detail: {
            requestId: r.requestId,
            accountId: r.accountId,
            region: r.region,
            instanceId: r.instanceId,
            requestedBy: r.requestedBy,
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
            evidenceOnly: r.evidenceOnly,
        },
    };
}
