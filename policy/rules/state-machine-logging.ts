/**
 * The response state machine logs: loggingConfiguration at level ALL or ERROR with a CloudWatch Logs
 * destination, so every response leaves a record outside the case itself. Advisory by default.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isObject, isUnknown, notApplicable, Problems, TYPES, type RuleResource, type Verdict } from "../lib/model";
import { listSetting, typedResourceRule } from "../lib/pack";

export const NAME = "state-machine-logging";

export interface LoggingConfig {
    readonly allowedLevels: readonly string[];
}

export const DEFAULTS: LoggingConfig = { allowedLevels: ["ALL", "ERROR"] };

export function loggingConfig(raw: Record<string, unknown>): LoggingConfig {
    return { allowedLevels: listSetting<string>(raw, "allowedLevels", DEFAULTS.allowedLevels, "string", NAME) };
}

/** The rule, as a pure function of one resource's inputs. */
export function checkStateMachineLogging(r: RuleResource, config: LoggingConfig = DEFAULTS): Verdict {
    if (r.type !== TYPES.stateMachine) return notApplicable("not a Step Functions state machine");
    const p = new Problems();
    const levels = config.allowedLevels.join(" or ");
    const logging = r.props.loggingConfiguration;
    if (isUnknown(logging)) p.unknownValue("loggingConfiguration");
    else if (!isObject(logging)) p.violation(`it has no loggingConfiguration — set level ${levels} with logDestination a log group ARN ending in :*`);
    else {
        const level = logging.level;
        if (isUnknown(level)) p.unknownValue("the logging level");
        else if (typeof level !== "string" || !config.allowedLevels.includes(level)) {
            p.violation(`it logs at level ${typeof level === "string" ? level : "OFF (unset)"} — set loggingConfiguration.level to ${levels}`);
        }
        const destination = logging.logDestination;
        if (isUnknown(destination)) p.unknownValue("the log destination");
        else if (typeof destination !== "string" || destination === "") {
            p.violation("it has no log destination — set loggingConfiguration.logDestination to a CloudWatch Logs group ARN ending in :*");
        }
    }
    return p.verdict(`state machine ${r.name}`);
}

export const policy: ResourceValidationPolicy = {
    name: NAME,
    displayName: "State machines log their executions",
    description: "Every Step Functions state machine has a loggingConfiguration at level ALL or ERROR with a log destination.",
    enforcementLevel: "advisory",
    severity: "medium",
    tags: ["stepfunctions", "logging"],
    remediationSteps:
        "Set loggingConfiguration {level: \"ALL\", includeExecutionData: true, logDestination: `${logGroup.arn}:*`} on the state " +
        "machine, with a log group under /aws/vendedlogs/states/.",
    configSchema: {
        properties: {
            allowedLevels: {
                type: "array",
                items: { type: "string", enum: ["ALL", "ERROR", "FATAL", "OFF"] },
                default: [...DEFAULTS.allowedLevels],
                description: "Logging levels that count as logging.",
            },
        },
    },
    validateResource: typedResourceRule(TYPES.stateMachine, loggingConfig, checkStateMachineLogging),
};
