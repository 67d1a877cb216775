/** The scheduler's contract (scheduler.ts): what a run may end with, what it reports, how it is driven, and its states. */

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

export type SchedulerEvent = { type: 'run-start' } | { type: 'run-end'; outcome: RunOutcome } | { type: 'skipped-offline' } | { type: 'changed' };

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
  /**
   * Records wait to be sent (found at a start or a sign-in): with auto sync on, a run now, or as
   * soon as the browser is online; with auto sync off, nothing (Sync now sends them). Never rejects.
   */
  runOwed(): Promise<void>;
  /** Runs now, or shares the run in flight. Waits for the run; never rejects. */
  syncNow(): Promise<void>;
  snapshot(): SchedulerSnapshot;
  /** Stops everything and waits for a run in flight to end. */
  dispose(): Promise<void>;
}

/** Where the scheduler is. `due`: a run is owed, to be made when the browser is back online. */
export type Phase =
  | { kind: 'idle'; due: boolean }
  | { kind: 'running'; run: Promise<void> }
  /** After a failure: ticks are skipped until `until`; `manualOwed`: "Sync now" came during a Retry-After wait. */
  | { kind: 'waiting'; why: 'backoff' | 'rate-limit'; until: number; timer: ReturnType<typeof setTimeout>; due: boolean; manualOwed: boolean }
  /** A 401: no automatic run until the session changes (canRetryAuth) or "Sync now". */
  | { kind: 'needsSignIn' }
  | { kind: 'disposed' };
