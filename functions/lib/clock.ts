/**
 * The functions' clock: the wall clock in Lambda. The drill sets it to the simulator's clock while it runs, so a
 * response that lives through hours of simulated waiting (snapshots, captures) sees those hours pass, as the
 * deployed functions would, instead of the few milliseconds the drill takes.
 */
let source: () => Date = () => new Date();

/** Now, by the functions' clock. */
export function now(): Date {
    return source();
}

/** Set the clock (the drill: the simulator's); no argument restores the wall clock. */
export function setClock(clock?: () => Date): void {
    source = clock ?? (() => new Date());
}

const wallSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
let sleeper: (ms: number) => Promise<void> = wallSleep;

/**
 * Wait `ms` by the functions' clock: in Lambda a timer; in the drill the simulator's clock moves on by `ms` at once,
 * so a backoff waits out a per-second quota window there as it would in AWS.
 */
export function sleep(ms: number): Promise<void> {
    return sleeper(ms);
}

/** Set how {@link sleep} waits (the drill: advance the simulator's clock); no argument restores the timer. */
export function setSleeper(sleep?: (ms: number) => Promise<void>): void {
    sleeper = sleep ?? wallSleep;
}
