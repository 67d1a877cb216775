/**
 * The replication of `dispenses` (RxDB replicateRxCollection: push, and pull of the site's
 * records from every device of the site), as the run's steps 3, 4, 5 and 7 use it (run.ts). RxDB
 * runs push and pull together; a pulled version that meets an unpushed local change is settled by
 * the one conflict rule when that change is pushed. Live but idle between runs: `autoStart: false`,
 * each run start() → awaitInSync() raced against the first failure and a timeout → pause(); start()
 * walks on from the checkpoint RxDB keeps in its meta, so a reload or a crash resumes there.
 * `toggleOnDocumentVisible: false`: RxDB's default would start() on every tab focus.
 *
 * A run that fails or times out discards the replication (a canceled one stores no checkpoint);
 * the next run makes a new one on the same checkpoint. Pausing is only safe in sync: in rxdb 17.6
 * a batch that fails while paused drops its rows, and a queued batch with no rows left then stores
 * the latest checkpoint (upstream.ts, `docIds.length === 0`): those rows were never sent (seen
 * with the server stopped in the middle of a run).
 */
import { merge, Subject, type Subscription } from 'rxjs';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import { MAX_PUSH_ROWS } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseDatabase } from '../data/db';
import { checkpointWritten, markForResend, pushesUnderWaySettled, replicationMetaOpen, watchPushCheckpoint } from '../data/rxdb';
import { REPLICATION_ID, type PushCheckpoint } from './checkpoint';
import { SyncFailure } from './http';
import { createPullHandler, DEFAULT_PULL_BATCH, type PullCheckpoint, type PullDeps } from './pull';
import { createPushHandler, type PushDeps } from './push';
import { addBatch, emptyReport, type RunReport } from './status';

/**
 * Rows per push request (the server takes up to 1000), and requests per RxDB batch, sent together:
 * RxDB reads, notes and checkpoints a batch as one, so larger batches keep the server busy on some
 * requests while the page handles others. Four of 1000: ~2,200-2,900 rows/s in Chromium against
 * ~1,400 for one of 500 (docs/decisions/four-requests-per-batch.md).
 */
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_REQUESTS_PER_BATCH = 4;

/** One run at a time: sync() begins it, pause() or discard() ends it (run.ts calls them in step order). */
export interface DispenseReplication {
  /** Steps 3 and 4: pushes every pending change and pulls the site's; null once in sync, else the first failure or the timeout. */
  sync(timeoutMs?: number): Promise<SyncFailure | null>;
  /** Step 5: waits until RxDB has stored its push checkpoint (awaitInSync does not) and passes it on as stored. */
  checkpoint(): Promise<void>;
  report(): RunReport;
  /** Step 7: after a run in sync, idle until the next; after a failure, discarded (above). */
  pause(): Promise<void>;
  discard(): Promise<void>;
  /** Makes the records `ids` (which the server lost: resend.ts) pending again between runs; the ids done, null before a first run. */
  resend(ids: string[]): Promise<string[] | null>;
  /** Ends a run in flight at once (sign-out should not wait for a slow server) and the replication. */
  cancel(): Promise<void>;
}

export interface ReplicationOptions extends Omit<PushDeps, 'marks' | 'onBatch' | 'onFailure' | 'rowsPerRequest'> {
  /** Rows per push request (at most 1000, the server's limit). */
  batchSize?: number;
  /** Push requests per RxDB batch, sent together. */
  requestsPerBatch?: number;
  /** Records a pull answer carries at most (the server gives up to 1000). */
  pullBatchSize?: number;
  /** A first pull's progress through the site's window (a new device's progress bar). */
  onWindow?: PullDeps['onWindow'];
  /** RxDB's push checkpoint when it stores one (`exact` false: may come out of order), and as stored at a run's start and end (`exact`; null: none). */
  onCheckpoint?: (checkpoint: PushCheckpoint | null, exact: boolean) => void;
}

interface Live {
  state: RxReplicationState<Dispense, PullCheckpoint>;
  errors: Subject<SyncFailure>; // failures that do not come through a handler (storage errors, a failed start)
  sub: Subscription;
  checkpoints?: ReturnType<typeof watchPushCheckpoint>;
}

export function createDispenseReplication(db: DispenseDatabase, opts: ReplicationOptions): DispenseReplication {
  let report = emptyReport();
  const failures = new Subject<SyncFailure>();
  const rowsPerRequest = Math.min(opts.batchSize ?? DEFAULT_BATCH_SIZE, MAX_PUSH_ROWS);
  const onFailure = (f: SyncFailure) => failures.next(f);
  const handler = createPushHandler({ ...opts, rowsPerRequest, marks: db.syncmarks, onBatch: (b) => addBatch(report, b), onFailure });
  const pull = createPullHandler({
    ...opts,
    onFailure,
    // Called inside a started replication; none after it was discarded (its pull is canceled).
    pushesSettled: () => (live ? pushesUnderWaySettled(live.state) : Promise.resolve()),
  });

  let live: Live | null = null;
  /** The run under way: resend waits for its end (RxDB's meta is written only between runs). */
  let turn: { ended: Promise<void>; end: () => void } | null = null;
  /** A resend's writes: a run waits for them (RxDB's upstream must not read between them). */
  let resending: Promise<unknown> = Promise.resolve();
  const stopping = new Subject<SyncFailure>();

  function replication(): Live {
    if (live) return live;
    const state = replicateRxCollection<Dispense, PullCheckpoint>({
      replicationIdentifier: REPLICATION_ID,
      collection: db.dispenses,
      push: { handler, batchSize: rowsPerRequest * (opts.requestsPerBatch ?? DEFAULT_REQUESTS_PER_BATCH) },
      pull: { handler: pull, batchSize: Math.min(opts.pullBatchSize ?? DEFAULT_PULL_BATCH, DEFAULT_PULL_BATCH) },
      live: true,
      autoStart: false,
      toggleOnDocumentVisible: false,
      // The run checks leadership before it starts (a manual start() ignores this flag).
      waitForLeadership: false,
      // RxDB retries a failed push itself after retryTime; a run ends at the first failure and
      // is discarded, so this only bounds how long RxDB's retry loop sleeps before it notices.
      retryTime: 1000,
    });
    const errors = new Subject<SyncFailure>();
    // RxDB emits a pulled document here once it has written it to this device.
    const sub = state.received$.subscribe(() => void (report.received += 1));
    sub.add(
      state.error$.subscribe((err) => {
        const causes = (err as { parameters?: { errors?: { name?: string }[] } }).parameters?.errors ?? [];
        if (causes.some((e) => e?.name === 'SyncFailure')) return; // already reported by the handler
        errors.next(new SyncFailure('server', `Local sync error: ${err.message.split('\n')[0]}`, err.code ?? null));
      }),
    );
    live = { state, errors, sub };
    return live;
  }

  async function discardLive(): Promise<void> {
    const l = live;
    live = null;
    if (!l) return;
    l.sub.unsubscribe();
    l.checkpoints?.sub.unsubscribe();
    await l.state.cancel();
  }

  const endTurn = () => {
    turn?.end();
    turn = null;
  };

  return {
    async sync(timeoutMs = 5 * 60_000) {
      await resending;
      let end = () => {};
      turn = { ended: new Promise<void>((resolve) => (end = resolve)), end: () => end() };
      report = emptyReport();
      const l = replication();
      let sub: Subscription | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const failed = new Promise<SyncFailure>((resolve) => {
        sub = merge(failures, l.errors, stopping).subscribe(resolve);
        timer = setTimeout(() => resolve(new SyncFailure('network', 'The server is too slow to answer; will try again', 'timeout')), timeoutMs);
      });
      const inSync = l.state.start().then(
        () => {
          if (opts.onCheckpoint && !l.checkpoints) {
            l.checkpoints = watchPushCheckpoint(l.state, opts.onCheckpoint);
            void l.checkpoints.read().catch(() => {}); // the mirror starts from RxDB's own
          }
          return l.state.awaitInSync().then(() => null);
        },
        (err: Error) => new SyncFailure('server', `Sync could not start: ${err.message.split('\n')[0]}`, 'start_failed'),
      );
      try {
        return await Promise.race([inSync, failed]);
      } finally {
        sub?.unsubscribe();
        clearTimeout(timer);
      }
    },
    async checkpoint() {
      const l = live;
      if (l) await checkpointWritten(l.state).then(() => l.checkpoints?.read());
    },
    report: () => report,
    // A push in flight when paused has its answer discarded by RxDB and is sent again next run:
    // at least once, which the server's idempotent upsert makes exactly once.
    pause: () => Promise.resolve(live?.state.pause()).finally(endTurn),
    discard: () => discardLive().finally(endTurn),
    resend(ids) {
      const job = (async () => {
        await turn?.ended;
        // Started once and paused since (a run that failed made it anew): RxDB's meta is open.
        const state = live?.state;
        if (!state || !replicationMetaOpen(state) || !state.isPaused()) return null;
        return markForResend(state, db.dispenses, ids);
      })();
      resending = job.catch(() => {});
      return job;
    },
    async cancel() {
      stopping.next(new SyncFailure('network', 'Sync was stopped', 'stopped'));
      await turn?.ended;
      await discardLive();
    },
  };
}
