/**
 * How long the workflow waits between two checks of a long-running evidence step (the snapshots, their copies
 * into the hub, the memory capture), pure: the one schedule the handlers return, the drill lives through and the
 * history-quota test bounds.
 *
 * Why not a fixed interval: a Standard execution fails, uncatchably, when its history reaches 25,000 events
 * (Step Functions developer guide, "Step Functions service quotas": "Maximum execution history size"), and one
 * poll round (Choice, Wait, Lambda Task) writes at least 9 (API reference, "HistoryEvent"). At a fixed 30 s the
 * snapshot loop alone reached the quota after ~23 hours, before its 24 h default cap, and the configuration
 * allows 168 h: the case was left open, unsealed.
 *
 * The schedule: the wait is half the time the step has run so far (so checks come quickly while a step is young,
 * and the interval grows by half each round), never below the configured base, never above the cap divided by
 * {@link STEADY_ROUNDS}. Whatever the cap and the base, a loop therefore reaches its deadline within
 * {@link maxPollRounds} rounds: about log1.5(cap / base) rounds of growth plus STEADY_ROUNDS at the largest wait.
 * The price is latency: a step that completes late is noticed up to cap/STEADY_ROUNDS after it completes (18 min
 * at the default 24 h snapshot cap, 2.25 min at the default 3 h memory cap), documented in docs/limitations.md.
 */

/** Rounds at the largest wait it takes to cover a whole cap. */
export const STEADY_ROUNDS = 80;

/** Step Functions' Wait state takes whole seconds. */
const MIN_WAIT_SECONDS = 1;

export interface PollClock {
    /** When the step started (its deadline is startedAt + cap). */
    startedAt: string;
    /** startedAt + the step's cap. */
    deadline: string;
}

/** The largest wait of a loop whose cap is `capSeconds`. */
export function maxPollSeconds(capSeconds: number, baseSeconds: number): number {
    return Math.max(baseSeconds, Math.ceil(capSeconds / STEADY_ROUNDS), MIN_WAIT_SECONDS);
}

/**
 * The seconds to wait before the next check, given the step's clock, the time now and the configured base
 * interval. Past the deadline it is the base: the next check reports the timeout.
 */
export function nextPollSeconds(clock: PollClock, now: Date, baseSeconds: number): number {
    if (!Number.isInteger(baseSeconds) || baseSeconds < MIN_WAIT_SECONDS) throw new Error(`poll base must be a whole number of seconds >= 1, got ${baseSeconds}`);
    const started = Date.parse(clock.startedAt);
    const deadline = Date.parse(clock.deadline);
    if (Number.isNaN(started) || Number.isNaN(deadline)) return baseSeconds;
    const capSeconds = Math.max(0, (deadline - started) / 1000);
    const elapsedSeconds = Math.max(0, (now.getTime() - started) / 1000);
    if (now.getTime() > deadline) return baseSeconds;
    return Math.min(maxPollSeconds(capSeconds, baseSeconds), Math.max(baseSeconds, Math.ceil(elapsedSeconds / 2)));
}

/**
 * The most rounds (checks) a loop with this cap and base can take before a check comes after the deadline (and
 * reports the timeout), counted by running the schedule with checks that take no time (the worst case: real
 * checks take time, which only moves the deadline closer). The first check comes one base interval after the start.
 */
export function maxPollRounds(capSeconds: number, baseSeconds: number): number {
    const startedAt = new Date(0).toISOString();
    const clock = { startedAt, deadline: new Date(capSeconds * 1000).toISOString() };
    let t = baseSeconds;
    let rounds = 1;
    while (t <= capSeconds) {
        t += nextPollSeconds(clock, new Date(t * 1000), baseSeconds);
        rounds += 1;
    }
    return rounds;
}

/** The `pollSeconds` a Task passes (the definition's setting), or `fallback` when absent; anything else is refused. */
export function pollSecondsOf(raw: unknown, fallback: number): number {
    if (raw === undefined || raw === null) return fallback;
    if (typeof raw !== "number" || !Number.isInteger(raw) || raw < MIN_WAIT_SECONDS) {
        throw new Error(`pollSeconds must be a whole number of seconds >= 1, got ${JSON.stringify(raw)}`);
    }
    return raw;
}

/** A step's result with the pause before its next check set while it is pending (and removed once it is not). */
export function withNextPoll<T extends PollClock & { nextPollSeconds?: number }>(result: T, pending: boolean, now: Date, baseSeconds: number): T {
    const { nextPollSeconds: _previous, ...rest } = result;
    return (pending ? { ...rest, nextPollSeconds: nextPollSeconds(result, now, baseSeconds) } : rest) as T;
}
