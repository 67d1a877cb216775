/**
 * The one way a test waits for something: a condition read again until it holds, or a deadline.
 * Never a fixed sleep: a sleep is too short on a loaded machine and wasted time on a quiet one.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long (default 30 s: a shared machine under load is slow, not broken). */
  timeout?: number;
  /** Pause between two reads (default 25 ms). */
  interval?: number;
  /** What is awaited, for the error at the deadline. */
  what?: string;
}

/**
 * Resolves with the first truthy value `check` returns (so a wait can hand back what it found);
 * throws at the deadline with the last value or error, so a failure says what was seen.
 */
export async function eventually<T>(check: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<NonNullable<T>> {
  const { timeout = 30_000, interval = 25, what = 'the condition' } = opts;
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`Timed out after ${timeout} ms waiting for ${what} (last seen: ${seen})`);
    }
    await sleep(interval);
  }
}
