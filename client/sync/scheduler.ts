/**
 * When a push runs: on the timer (while auto sync is on), on "Sync now", when a start or a sign-in
 * finds records waiting (runOwed, while auto sync is on), and when the browser comes back online
 * with a run due. One run at a time: a tick during a run starts nothing and
 * "Sync now" during a run shares it. Failures set the next try: exponential backoff with jitter
 * after a network or server failure, the server's Retry-After after a 429, and a stop after a 401
 * until the session changes. Knows nothing of RxDB or HTTP: `run` does the work. Its state is one
 * value of the union `Phase`; the settings (on or off, the interval) and the count of failures
 * in a row are apart from it.
 */
import { browserOnline, onNetwork } from './network';
import type { Phase, RunOutcome, Scheduler, SchedulerEvent, SchedulerOptions, SchedulerSnapshot } from './scheduler-types';

export type { RunOutcome, Scheduler, SchedulerEvent, SchedulerOptions, SchedulerSnapshot } from './scheduler-types';

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

  let phase: Phase = { kind: 'idle', due: false };
  let enabled = opts.enabled;
  let intervalMs = opts.intervalSeconds * 1000;
  let interval: ReturnType<typeof setInterval> | null = null;
  let intervalStartedAt = 0;
  let failures = 0;

  const snapshot = (): SchedulerSnapshot => {
    let nextRunAt: number | null = null;
    if (phase.kind === 'waiting' && (enabled || phase.manualOwed)) nextRunAt = phase.until;
    else if (phase.kind !== 'needsSignIn' && enabled && interval) {
      const elapsed = now() - intervalStartedAt;
      nextRunAt = intervalStartedAt + (Math.floor(elapsed / intervalMs) + 1) * intervalMs;
    }
    return { enabled, intervalMs, running: phase.kind === 'running', failures, nextRunAt, stoppedForAuth: phase.kind === 'needsSignIn' };
  };
  const emit = (event: SchedulerEvent) => opts.onEvent?.(event, snapshot());

  /** Moves to `next`, ending a wait's timer on the way out of it. */
  const enter = (next: Phase) => {
    if (phase.kind === 'waiting') clearTimeout(phase.timer);
    phase = next;
  };

  const startTimer = () => {
    if (interval) clearInterval(interval);
    interval = null;
    if (!enabled || phase.kind === 'disposed') return;
    intervalStartedAt = now();
    interval = setInterval(tick, intervalMs);
  };

  /** After a 401: the session has changed since, so runs may be tried again. */
  const authBlocked = () => {
    if (phase.kind === 'needsSignIn' && opts.canRetryAuth?.()) enter({ kind: 'idle', due: false });
    return phase.kind === 'needsSignIn';
  };

  function waitFor(delay: number, why: 'backoff' | 'rate-limit', due: boolean) {
    const timer = setTimeout(() => {
      if (phase.kind !== 'waiting') return;
      const { manualOwed } = phase;
      enter({ kind: 'idle', due: phase.due });
      if (enabled || manualOwed) attempt();
      else emit({ type: 'changed' });
    }, delay);
    enter({ kind: 'waiting', why, until: now() + delay, timer, due, manualOwed: false });
  }

  /** The phase after a run. */
  function settle(outcome: RunOutcome) {
    switch (outcome.kind) {
      case 'ok':
        failures = 0;
        return enter({ kind: 'idle', due: false });
      case 'retry':
        failures += 1;
        return waitFor(backoffDelay(failures, baseMs, maxMs, random), 'backoff', outcome.reason === 'network');
      case 'rate-limited':
        return waitFor(Math.max(0, outcome.retryAfterMs), 'rate-limit', false);
      case 'unauthorized':
        return enter({ kind: 'needsSignIn' });
      case 'skipped':
        return enter({ kind: 'idle', due: false });
    }
  }

  function runNow(): Promise<void> {
    if (phase.kind === 'running') return phase.run;
    // The body starts on the next microtask, so the phase is 'running' when run-start is seen.
    const run = Promise.resolve().then(async () => {
      emit({ type: 'run-start' });
      let outcome: RunOutcome;
      try {
        outcome = await opts.run();
      } catch {
        outcome = { kind: 'retry', reason: 'server' };
      }
      if (phase.kind === 'disposed') return;
      settle(outcome); // leaves 'running' before the event, so a listener sees the scheduler idle
      emit({ type: 'run-end', outcome });
    });
    enter({ kind: 'running', run });
    return run;
  }

  /** A run the scheduler itself starts (tick, end of a wait). */
  function attempt(): Promise<void> {
    if (phase.kind === 'running') return phase.run;
    if (phase.kind === 'disposed' || authBlocked()) return Promise.resolve();
    if (!isOnline()) {
      enter({ kind: 'idle', due: true });
      emit({ type: 'skipped-offline' });
      return Promise.resolve();
    }
    return runNow();
  }

  function tick() {
    if (phase.kind === 'running' || phase.kind === 'waiting') return; // a run in flight, or a failure's wait not over yet
    void attempt();
  }

  const offOnline = (opts.onOnline ?? ((listener: () => void) => onNetwork('online', listener)))(() => {
    if (phase.kind === 'running' || phase.kind === 'disposed' || authBlocked()) return;
    if (phase.kind === 'waiting' && phase.why === 'rate-limit') return; // the server said how long to wait
    if (phase.kind === 'waiting' || (phase.kind === 'idle' && phase.due)) void runNow();
    else emit({ type: 'changed' });
  });

  startTimer();
  // Started with no network (a browser opened offline): a run is owed for when it comes back,
  // unless auto sync is off (then only "Sync now" sends).
  if (!isOnline() && enabled) phase = { kind: 'idle', due: true };

  return {
    start() {
      if (phase.kind === 'disposed' || enabled) return;
      enabled = true;
      startTimer();
      emit({ type: 'changed' });
    },
    pause() {
      if (phase.kind === 'disposed' || !enabled) return;
      enabled = false;
      // Nothing is owed to a paused sync, but the server's Retry-After still stands.
      if (phase.kind === 'idle' || (phase.kind === 'waiting' && phase.why === 'backoff')) enter({ kind: 'idle', due: false });
      else if (phase.kind === 'waiting') phase.due = false;
      startTimer();
      emit({ type: 'changed' });
    },
    setIntervalSeconds(seconds) {
      if (phase.kind === 'disposed' || seconds * 1000 === intervalMs) return;
      intervalMs = seconds * 1000;
      startTimer();
      emit({ type: 'changed' });
    },
    runOwed() {
      // Auto sync off: nothing leaves until "Sync now" (docs/decisions/run-owed-at-start.md). A
      // run in flight, a failure's wait or a refused session already decide when the next run comes.
      if (!enabled || phase.kind !== 'idle') return Promise.resolve();
      return attempt(); // offline: owed, and run when the browser is back online
    },
    syncNow() {
      if (phase.kind === 'disposed') return Promise.resolve();
      if (phase.kind === 'running') return phase.run;
      if (phase.kind === 'needsSignIn') enter({ kind: 'idle', due: false }); // the user asks again, perhaps after signing in
      if (phase.kind === 'waiting' && phase.why === 'rate-limit') {
        phase.manualOwed = true;
        emit({ type: 'changed' });
        return Promise.resolve();
      }
      if (!isOnline()) {
        if (phase.kind === 'waiting') phase.due = true;
        else enter({ kind: 'idle', due: true });
        emit({ type: 'skipped-offline' });
        return Promise.resolve();
      }
      return runNow();
    },
    snapshot,
    async dispose() {
      const run = phase.kind === 'running' ? phase.run : null;
      enter({ kind: 'disposed' });
      if (interval) clearInterval(interval);
      interval = null;
      offOnline();
      await run?.catch(() => {});
    },
  };
}
