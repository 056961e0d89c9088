// Exponential backoff with jitter for reconnecting: 0.5 s, 1 s, 2 s … capped at 15 s, each ±20 %, so that
// many browsers dropped by one gateway restart do not all come back in the same instant.

export class Backoff {
  #attempt = 0;

  constructor(
    readonly initialMs = 500,
    readonly maxMs = 15_000,
    readonly jitter = 0.2,
    readonly random: () => number = Math.random,
  ) {}

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt (at least `floorMs`, e.g. a server's retry-after). */
  next(floorMs = 0): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt);
    this.#attempt++;
    const jittered = base * (1 - this.jitter + 2 * this.jitter * this.random());
    return Math.round(Math.max(floorMs, jittered));
  }

  /** A connection worked: the next failure starts from the initial delay again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
