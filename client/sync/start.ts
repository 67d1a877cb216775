/**
 * startSync: what the app calls once it has a database and a session. Every tab shows the status
 * (counts from its own database, runs as the leader publishes them); the tab RxDB elects leader
 * owns the replication and the scheduler, follows the sync settings, and runs other tabs'
 * "Sync now" requests. Between runs no request leaves.
 */
import type { Subscription } from 'rxjs';
import type { DispenseDatabase } from '../db';
import { useSyncSettings } from '../stores/sync-settings';
import { INITIAL_SYNC_STATUS, useSyncStatus, type SyncStatusFields } from '../stores/sync-status';
import { rejectedMarks$ } from './marks';
import { oldestPendingAt$, pendingCount$, publishCheckpoint, type PushCheckpoint } from './progress';
import { createDispenseReplication, type RunResult } from './replication';
import { createScheduler, type RunOutcome, type SchedulerOptions, type SchedulerSnapshot } from './scheduler';
import {
  deriveState,
  describeRun,
  mirrorStatus,
  publishedStatus$,
  publishStatus,
  requestRun,
  runRequests$,
  STATUS_DOC,
  type PublishedStatus,
  type StateInputs,
} from './status';

export interface SyncDeps {
  baseUrl: string;
  /** The site of the database: only its records are sent, only with a token of its users. */
  siteId: string;
  getToken: () => string | null;
  deviceId: string;
  onUnauthorized?: () => void;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Rows per push request (default and most 1000). */
  batchSize?: number;
  /** Push requests per RxDB batch, sent together (default 4). */
  requestsPerBatch?: number;
  /** A run that takes longer is ended and retried with backoff (default 5 minutes). */
  runTimeoutMs?: number;
  /** Passed to the scheduler (tests). */
  scheduler?: Pick<SchedulerOptions, 'isOnline' | 'onOnline' | 'backoffBaseMs' | 'backoffMaxMs' | 'random'>;
}

export interface SyncController {
  /** Runs a sync now (in another tab if that one leads) and resolves when it has ended. */
  syncNow(): Promise<void>;
  /** Stops the timer and the replication of this tab; records stay on the device. */
  stop(): Promise<void>;
}

const browserOnline = () => typeof navigator === 'undefined' || navigator.onLine !== false;

function onWindow(event: 'online' | 'offline', listener: () => void): () => void {
  if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {};
  window.addEventListener(event, listener);
  return () => window.removeEventListener(event, listener);
}

/** One sync per database in a tab: a second startSync stops the first (two replications on one collection push twice). */
const ACTIVE = new WeakMap<DispenseDatabase, SyncController>();

interface Leader {
  syncNow(): Promise<void>;
  refresh(): void;
  dispose(): Promise<void>;
}

export function startSync(db: DispenseDatabase, deps: SyncDeps): SyncController {
  const isOnline = deps.scheduler?.isOnline ?? browserOnline;
  const setStatus = (p: Partial<SyncStatusFields>) => useSyncStatus.setState(p);
  const subs: Subscription[] = [];
  let stopped = false;
  let leader: Leader | null = null;
  let published: PublishedStatus | null = null;

  const previous = ACTIVE.get(db);
  const previousStopped = previous ? previous.stop() : Promise.resolve();
  setStatus({ isLeader: false, countsKnown: false });

  // Every tab: the exact pending count (an index count, at once however many are pending), the
  // rejected records, and when the oldest pending change was saved (found after the count).
  const known = { count: false, rejected: false };
  const noteKnown = (part: keyof typeof known) => {
    known[part] = true;
    if (known.count && known.rejected) setStatus({ countsKnown: true });
  };
  subs.push(
    pendingCount$(db).subscribe((n) => {
      setStatus(n === 0 ? { pendingCount: 0, pendingKnown: true, oldestPendingAt: null } : { pendingCount: n, pendingKnown: true });
      noteKnown('count');
    }),
    rejectedMarks$(db.syncmarks, db.dispenses).subscribe((rejected) => {
      setStatus({ rejected: rejected.map((m) => ({ externalId: m.externalId, code: m.code ?? 'rejected', message: m.reason ?? 'Rejected by the server' })) });
      noteKnown('rejected');
    }),
    oldestPendingAt$(db).subscribe((at) => setStatus({ oldestPendingAt: at })),
  );

  // Every tab that does not lead: the leader's status.
  subs.push(
    publishedStatus$(db).subscribe((p) => {
      published = p;
      if (!leader && p) setStatus(mirrorStatus(p, isOnline()));
    }),
  );
  const onNetwork = () => {
    if (leader) leader.refresh();
    else if (published) setStatus(mirrorStatus(published, isOnline()));
    else setStatus({ state: isOnline() ? 'ready' : 'offline' });
  };
  const offNetwork = [onWindow('online', onNetwork), onWindow('offline', onNetwork)];
  if (!isOnline()) onNetwork();

  void db
    .waitForLeadership()
    .then(async () => {
      await previousStopped;
      if (stopped || db.closed) return;
      // Read, not awaited from the observable: which requests were handled must be known first.
      const prev = await db.getLocal<PublishedStatus>(STATUS_DOC);
      if (!stopped && !db.closed) leader = lead(prev ? (prev.toJSON().data as PublishedStatus) : published);
    })
    .catch(() => {});

  function lead(previous: PublishedStatus | null): Leader {
    const settings = useSyncSettings.getState();
    const replication = createDispenseReplication(db, {
      baseUrl: deps.baseUrl,
      siteId: deps.siteId,
      getToken: deps.getToken,
      deviceId: deps.deviceId,
      fetch: deps.fetch,
      batchSize: deps.batchSize,
      requestsPerBatch: deps.requestsPerBatch,
      // Mirrored for every tab's pending count.
      onCheckpoint: (cp: PushCheckpoint | null, exact: boolean) => {
        if (!db.closed) publishCheckpoint(db, cp, exact);
      },
    });
    // Carry the last sync and result over a reload or a change of leader.
    const view: Omit<StateInputs, 'running' | 'online' | 'enabled'> & Omit<PublishedStatus, 'state' | 'nextTryAt'> = {
      needsSignIn: false,
      failed: null,
      lastSyncAt: previous?.lastSyncAt ?? null,
      lastResult: previous?.lastResult ?? null,
      lastError: null,
      handledRequestId: previous?.handledRequestId ?? null,
    };
    let rejectedToken: string | null = null;
    let lastRun: RunResult | null = null;
    let publishing: Promise<void> = Promise.resolve();

    const publish = (snap: SchedulerSnapshot) => {
      const status: PublishedStatus = {
        state: deriveState({ ...view, running: snap.running, online: isOnline(), enabled: snap.enabled }),
        lastSyncAt: view.lastSyncAt,
        lastResult: view.lastResult,
        lastError: view.lastError,
        nextTryAt: snap.nextRunAt === null ? null : new Date(snap.nextRunAt).toISOString(),
        needsSignIn: view.needsSignIn,
        handledRequestId: view.handledRequestId,
      };
      const { handledRequestId: _ignored, ...fields } = status;
      setStatus({ ...fields, isLeader: true });
      publishing = publishing.then(() => publishStatus(db, status)).catch(() => {});
    };

    async function run(): Promise<RunOutcome> {
      // A manual start() ignores leadership: without this check two tabs could push the same rows.
      if (stopped || db.closed || !db.isLeader()) return { kind: 'skipped' };
      const token = deps.getToken();
      if (!token) {
        lastRun = null;
        return { kind: 'unauthorized' };
      }
      lastRun = await replication.run(deps.runTimeoutMs);
      if (lastRun.ok) return { kind: 'ok' };
      const f = lastRun.failure;
      switch (f.kind) {
        case 'unauthorized':
          rejectedToken = token;
          return { kind: 'unauthorized' };
        case 'rate-limited':
          return { kind: 'rate-limited', retryAfterMs: f.retryAfterMs ?? 60_000 };
        case 'network':
          return { kind: 'retry', reason: 'network' };
        default:
          return { kind: 'retry', reason: 'server' };
      }
    }

    function afterRun(outcome: RunOutcome) {
      const report = lastRun?.report;
      const failure = lastRun && !lastRun.ok ? lastRun.failure : null;
      switch (outcome.kind) {
        case 'ok':
          Object.assign(view, { needsSignIn: false, failed: null, lastError: null, lastSyncAt: new Date().toISOString() });
          view.lastResult = report ? describeRun(report, false) : null;
          break;
        case 'unauthorized':
          view.needsSignIn = true;
          view.failed = null;
          view.lastError = failure
            ? `The server did not accept the session (${failure.code ?? 'unauthorized'}): sign in again. Records stay on this device.`
            : 'Not signed in: sign in to sync. Records stay on this device.';
          if (report) view.lastResult = describeRun(report, true);
          deps.onUnauthorized?.();
          break;
        case 'rate-limited':
          view.failed = 'server';
          view.lastError = `The server is busy (${failure?.message ?? 'too many requests'}); waiting as it asked.`;
          if (report) view.lastResult = describeRun(report, true);
          break;
        case 'retry':
          view.failed = outcome.reason;
          view.lastError = failure?.message ?? 'Sync failed';
          if (report) view.lastResult = describeRun(report, true);
          break;
        case 'skipped':
          break;
      }
    }

    const scheduler = createScheduler({
      ...deps.scheduler,
      run,
      enabled: settings.enabled,
      intervalSeconds: settings.intervalSeconds,
      canRetryAuth: () => {
        const t = deps.getToken();
        return t !== null && t !== rejectedToken;
      },
      onEvent: (event, snap) => {
        if (event.type === 'run-end') afterRun(event.outcome);
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
      if (!req || req.id === view.handledRequestId) return;
      void scheduler.syncNow().then(() => {
        view.handledRequestId = req.id;
        publish(scheduler.snapshot());
      });
    });

    publish(scheduler.snapshot());
    return {
      syncNow: () => scheduler.syncNow(),
      refresh: () => publish(scheduler.snapshot()),
      async dispose() {
        offSettings();
        requests.unsubscribe();
        await Promise.all([scheduler.dispose(), replication.cancel()]);
        await publishing;
      },
    };
  }

  const controller: SyncController = {
    syncNow() {
      if (stopped) return Promise.resolve();
      return leader ? leader.syncNow() : requestRun(db);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (ACTIVE.get(db) === controller) ACTIVE.delete(db);
      subs.forEach((s) => s.unsubscribe());
      offNetwork.forEach((off) => off());
      const l = leader;
      leader = null;
      await l?.dispose();
      // Nothing of this database's status stays on screen for the next session (another site's).
      useSyncStatus.setState({ ...INITIAL_SYNC_STATUS });
    },
  };
  ACTIVE.set(db, controller);
  return controller;
}
