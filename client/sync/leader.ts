/**
 * The leader tab's sync: the replication, the scheduler that decides when it runs, and the wiring
 * between them, the sync settings, other tabs' "Sync now" and the status every tab shows. The
 * decisions are elsewhere and pure: when to run (scheduler.ts), what a run's result means and
 * says (status.ts).
 */
import type { DispenseDatabase } from '../data/db';
import { useSyncSettings } from '../stores/sync-settings';
import { useSyncStatus } from '../stores/sync-status';
import { publishCheckpoint } from './checkpoint';
import { startDeviceReports } from './device-report';
import type { SyncFailure } from './http';
import { runOwedAtStart } from './first-pull';
import { browserOnline } from './network';
import { createDispenseReplication, type RunResult } from './replication';
import { createResender } from './resend';
import { createScheduler, type RunOutcome, type SchedulerOptions, type SchedulerSnapshot } from './scheduler';
import { afterRun, firstRecord, outcomeOf, statusOf, type PublishedStatus, type RunRecord } from './status';
import { publishStatus, runRequests$ } from './tabs';

export interface SyncDeps {
  baseUrl: string;
  /** The site of the database: only its records are sent, only with a token of its users. */
  siteId: string;
  getToken: () => string | null;
  deviceId: string;
  /** The server refused the session (`failure`: its code and words, for `token`; null when there was no token). */
  onUnauthorized?: (failure: SyncFailure | null, token: string | null) => void;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Rows per push request (default and most 1000). */
  batchSize?: number;
  /** Push requests per RxDB batch, sent together (default 4). */
  requestsPerBatch?: number;
  /** Records a pull answer carries at most (default and most 1000). */
  pullBatchSize?: number;
  /** A run that takes longer is ended and retried with backoff (default 5 minutes). */
  runTimeoutMs?: number;
  /** Passed to the scheduler (tests). */
  scheduler?: Pick<SchedulerOptions, 'isOnline' | 'onOnline' | 'backoffBaseMs' | 'backoffMaxMs' | 'random'>;
}

export interface Leader {
  syncNow(): Promise<void>;
  /** Publishes the status again (the network changed). */
  refresh(): void;
  dispose(): Promise<void>;
}

/** Leads the sync of `db` from now on; `stopped()` is true once the tab's sync is stopping. */
export function lead(db: DispenseDatabase, deps: SyncDeps, previous: PublishedStatus | null, stopped: () => boolean): Leader {
  const isOnline = deps.scheduler?.isOnline ?? browserOnline;
  const settings = useSyncSettings.getState();
  const replication = createDispenseReplication(db, {
    baseUrl: deps.baseUrl,
    siteId: deps.siteId,
    getToken: deps.getToken,
    deviceId: deps.deviceId,
    fetch: deps.fetch,
    batchSize: deps.batchSize,
    requestsPerBatch: deps.requestsPerBatch,
    pullBatchSize: deps.pullBatchSize,
    onWindow: (receiving) => useSyncStatus.setState({ receiving }),
    // Mirrored for every tab's pending count.
    onCheckpoint: (cp, exact) => {
      if (!db.closed) publishCheckpoint(db, cp, exact);
    },
  });
  // A restored server lacks records this device made: found and made pending again, between runs.
  const resender = createResender(db, replication, {
    baseUrl: deps.baseUrl,
    siteId: deps.siteId,
    getToken: deps.getToken,
    deviceId: deps.deviceId,
    requestTimeoutMs: 30_000,
  });
  const reports = startDeviceReports(db, {
    baseUrl: deps.baseUrl,
    siteId: deps.siteId,
    getToken: deps.getToken,
    deviceId: deps.deviceId,
    onServerLacks: (figures) => void resender.check(figures),
  });
  let record: RunRecord = firstRecord(previous);
  let lastRun: RunResult | null = null;
  /** The token the server refused: no automatic run until the session has another. */
  let refusedToken: string | null = null;
  let publishing: Promise<void> = Promise.resolve();

  const publish = (snap: SchedulerSnapshot) => {
    const status = statusOf(record, snap, isOnline());
    const { handledRequestId: _ignored, ...fields } = status;
    useSyncStatus.setState({ ...fields, isLeader: true });
    publishing = publishing.then(() => publishStatus(db, status)).catch(() => {});
  };

  async function run(): Promise<RunOutcome> {
    // A manual start() ignores leadership: without this check two tabs could push the same rows.
    if (stopped() || db.closed || !db.isLeader()) return { kind: 'skipped' };
    const token = deps.getToken();
    if (token) await reports.first(); // the device's clock offset known before its first push
    lastRun = token ? await replication.run(deps.runTimeoutMs) : null;
    const outcome = outcomeOf(lastRun);
    if (outcome.kind === 'unauthorized' && token) refusedToken = token;
    return outcome;
  }

  const scheduler = createScheduler({
    ...deps.scheduler,
    run,
    enabled: settings.enabled,
    intervalSeconds: settings.intervalSeconds,
    canRetryAuth: () => {
      const t = deps.getToken();
      return t !== null && t !== refusedToken;
    },
    onEvent: (event, snap) => {
      if (event.type === 'run-start') useSyncStatus.setState({ receiving: null });
      if (event.type === 'run-end') {
        record = afterRun(record, event.outcome, lastRun, new Date());
        reports.afterRun();
        if (event.outcome.kind === 'unauthorized') deps.onUnauthorized?.(lastRun && !lastRun.ok ? lastRun.failure : null, refusedToken);
      }
      publish(snap);
    },
  });

  const offSettings = useSyncSettings.subscribe((s, prev) => {
    if (s.enabled !== prev.enabled) {
      if (s.enabled) scheduler.start();
      else scheduler.pause();
    }
    if (s.intervalSeconds !== prev.intervalSeconds) scheduler.setIntervalSeconds(s.intervalSeconds);
  });
  // "Sync now" pressed in another tab (also one written before this tab became leader).
  const requests = runRequests$(db).subscribe((req) => {
    if (!req || req.id === record.handledRequestId) return;
    void scheduler.syncNow().then(() => {
      record = { ...record, handledRequestId: req.id };
      publish(scheduler.snapshot());
    });
  });

  publish(scheduler.snapshot());
  // A start or a sign-in with records waiting (or a new device of a site with records): a run now,
  // if the scheduler allows one (auto sync on; online, or as soon as it is).
  void runOwedAtStart(db, deps.baseUrl, deps.getToken()).then((owed) => {
    if (owed && !stopped() && !db.closed) void scheduler.runOwed();
  });
  return {
    syncNow: () => scheduler.syncNow(),
    refresh: () => publish(scheduler.snapshot()),
    async dispose() {
      offSettings();
      reports.dispose();
      requests.unsubscribe();
      await Promise.all([scheduler.dispose(), replication.cancel()]);
      await publishing;
    },
  };
}
