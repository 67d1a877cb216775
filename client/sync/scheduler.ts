/**
 * When a push runs: on the timer (while auto sync is on), on "Sync now", and when the browser
 * comes back online with a run due. One run at a time: a tick during a run starts nothing and
 * "Sync now" during a run shares it. Failures set the next try: exponential backoff with jitter
 * after a network or server failure, the server's Retry-After after a 429, and a stop after a 401
 * until the session changes. Knows nothing of RxDB or HTTP: `run` does the work.
 */

export type RunOutcome =
  | { kind: 'ok' }
  /** The server could not be reached (network) or failed (5xx, bad answer): back off and retry. */
  | { kind: 'retry'; reason: 'network' | 'server' }
  | { kind: 'rate-limited'; retryAfterMs: number }
  | { kind: 'unauthorized' }
  /** Nothing was attempted (this tab is not the leader). */
  | { kind: 'skipped' };

export interface SchedulerSnapshot {
  enabled: boolean;
  intervalMs: number;
  running: boolean;
  /** Failures in a row (network or server). */
  failures: number;
  /** When the next automatic run is due (epoch ms), or null if none is planned. */
  nextRunAt: number | null;
  /** A 401 stopped the runs until the session changes or "Sync now". */
  stoppedForAuth: boolean;
}

export type SchedulerEvent =
  | { type: 'run-start' }
  | { type: 'run-end'; outcome: RunOutcome }
  | { type: 'skipped-offline' }
  | { type: 'changed' };

export interface SchedulerOptions {
  run: () => Promise<RunOutcome>;
  enabled: boolean;
  intervalSeconds: number;
  onEvent?: (event: SchedulerEvent, snapshot: SchedulerSnapshot) => void;
  isOnline?: () => boolean;
  /** Subscribes to the browser's `online` event; returns the unsubscribe. */
  onOnline?: (listener: () => void) => () => void;
  /** After a 401, true once a run may be tried again (e.g. a new token). Default: never by itself. */
  canRetryAuth?: () => boolean;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface Scheduler {
  /** Auto sync on: the timer runs. */
  start(): void;
  /** Auto sync off: the timer stops; syncNow still works. */
  pause(): void;
  setIntervalSeconds(seconds: number): void;
  /** Runs now, or shares the run in flight. Waits for the run; never rejects. */
  syncNow(): Promise<void>;
  snapshot(): SchedulerSnapshot;
  /** Stops everything and waits for a run in flight to end. */
  dispose(): Promise<void>;
}

const browserOnline = () => typeof navigator === 'undefined' || navigator.onLine !== false;
const browserOnOnline = (listener: () => void) => {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {};
  window.addEventListener('online', listener);
  return () => window.removeEventListener('online', listener);
};

/** Delay before retry number `failures` (1, 2, …): base·2^(n-1), capped, with jitter in [½, 1]. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const isOnline = opts.isOnline ?? browserOnline;
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const baseMs = opts.backoffBaseMs ?? 5_000;
  const maxMs = opts.backoffMaxMs ?? 10 * 60_000;

  let enabled = opts.enabled;
  let intervalMs = opts.intervalSeconds * 1000;
  let interval: ReturnType<typeof setInterval> | null = null;
  let intervalStartedAt = 0;
  /** The wait after a failure; while it is set, ticks are skipped. */
  let wait: { timer: ReturnType<typeof setTimeout>; until: number; kind: 'backoff' | 'rate-limit' } | null = null;
  let inFlight: Promise<void> | null = null;
  let failures = 0;
  let stoppedForAuth = false;
  /** A run was wanted while offline (or a retry is owed): the `online` event runs it. */
  let due = false;
  /** "Sync now" arrived during a Retry-After wait: run when the wait ends, even if paused. */
  let manualOwed = false;
  let disposed = false;

  const snapshot = (): SchedulerSnapshot => {
    let nextRunAt: number | null = null;
    if (!stoppedForAuth) {
      if (wait && (enabled || manualOwed)) nextRunAt = wait.until;
      else if (enabled && interval) {
        const elapsed = now() - intervalStartedAt;
        nextRunAt = intervalStartedAt + (Math.floor(elapsed / intervalMs) + 1) * intervalMs;
      }
    }
    return { enabled, intervalMs, running: inFlight !== null, failures, nextRunAt, stoppedForAuth };
  };
  const emit = (event: SchedulerEvent) => opts.onEvent?.(event, snapshot());

  const clearWait = () => {
    if (wait) clearTimeout(wait.timer);
    wait = null;
  };

  const startTimer = () => {
    if (interval) clearInterval(interval);
    interval = null;
    if (!enabled || disposed) return;
    intervalStartedAt = now();
    interval = setInterval(tick, intervalMs);
  };

  const authBlocked = () => {
    if (stoppedForAuth && opts.canRetryAuth?.()) stoppedForAuth = false;
    return stoppedForAuth;
  };

  function settle(outcome: RunOutcome) {
    switch (outcome.kind) {
      case 'ok':
        failures = 0;
        due = false;
        clearWait();
        break;
      case 'retry': {
        failures += 1;
        due = outcome.reason === 'network';
        const delay = backoffDelay(failures, baseMs, maxMs, random);
        setWait(delay, 'backoff');
        break;
      }
      case 'rate-limited':
        setWait(Math.max(0, outcome.retryAfterMs), 'rate-limit');
        break;
      case 'unauthorized':
        stoppedForAuth = true;
        due = false;
        clearWait();
        break;
      case 'skipped':
        break;
    }
  }

  function setWait(delay: number, kind: 'backoff' | 'rate-limit') {
    clearWait();
    const timer = setTimeout(() => {
      wait = null;
      const owed = manualOwed;
      manualOwed = false;
      if ((enabled || owed) && !disposed) attempt();
      else emit({ type: 'changed' });
    }, delay);
    wait = { timer, until: now() + delay, kind };
  }

  function runNow(): Promise<void> {
    if (inFlight) return inFlight;
    clearWait();
    due = false;
    const run = (async () => {
      emit({ type: 'run-start' });
      let outcome: RunOutcome;
      try {
        outcome = await opts.run();
      } catch {
        outcome = { kind: 'retry', reason: 'server' };
      }
      if (disposed) return;
      settle(outcome);
      // Cleared before the event, so a listener sees the scheduler idle.
      inFlight = null;
      emit({ type: 'run-end', outcome });
    })().finally(() => {
      inFlight = null;
    });
    inFlight = run;
    return run;
  }

  /** A run the scheduler itself starts (tick, end of a wait, back online). */
  function attempt(): Promise<void> {
    if (disposed || inFlight || authBlocked()) return inFlight ?? Promise.resolve();
    if (!isOnline()) {
      due = true;
      emit({ type: 'skipped-offline' });
      return Promise.resolve();
    }
    return runNow();
  }

  function tick() {
    if (inFlight || wait) return; // a run in flight, or a failure's wait not over yet
    void attempt();
  }

  const offOnline = (opts.onOnline ?? browserOnOnline)(() => {
    if (disposed || inFlight || authBlocked()) return;
    if (wait?.kind === 'rate-limit') return; // the server said how long to wait
    if (due || wait) void runNow();
    else emit({ type: 'changed' });
  });

  startTimer();

  return {
    start() {
      if (disposed || enabled) return;
      enabled = true;
      startTimer();
      emit({ type: 'changed' });
    },
    pause() {
      if (disposed || !enabled) return;
      enabled = false;
      due = false;
      if (wait?.kind === 'backoff') clearWait();
      startTimer();
      emit({ type: 'changed' });
    },
    setIntervalSeconds(seconds) {
      if (disposed || seconds * 1000 === intervalMs) return;
      intervalMs = seconds * 1000;
      startTimer();
      emit({ type: 'changed' });
    },
    syncNow() {
      if (disposed) return Promise.resolve();
      if (inFlight) return inFlight;
      stoppedForAuth = false; // the user asks again, perhaps after signing in
      if (wait?.kind === 'rate-limit') {
        manualOwed = true;
        emit({ type: 'changed' });
        return Promise.resolve();
      }
      if (!isOnline()) {
        due = true;
        emit({ type: 'skipped-offline' });
        return Promise.resolve();
      }
      return runNow();
    },
    snapshot,
    async dispose() {
      disposed = true;
      if (interval) clearInterval(interval);
      interval = null;
      clearWait();
      offOnline();
      await inFlight?.catch(() => {});
    },
  };
}
