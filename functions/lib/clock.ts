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
