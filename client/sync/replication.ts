/**
 * The replication of `dispenses` (RxDB replicateRxCollection: push, and pull of the site's
 * records from every device of the site) and one run of it. A run pushes the device's changes
 * and pulls the site's since the last pull; RxDB runs the two together, and a pulled version that
 * meets an unpushed local change is settled by the one conflict rule when that change is pushed.
 * The replication is live but idle between runs: `autoStart: false`, and each run is
 * start() → awaitInSync() raced against the first failure and a timeout → pause(). start() walks on
 * from the checkpoint RxDB keeps in its meta storage, so a reload or a crash resumes there.
 * `toggleOnDocumentVisible: false`: RxDB's default would start() on every tab focus.
 *
 * A run that fails or times out cancels the replication instead of pausing it, and the next run
 * makes a new one on the same checkpoint. Pausing is only safe in sync: in rxdb 17.6 a batch that
 * fails while paused drops its rows, and a queued batch with no rows left then stores the latest
 * checkpoint (upstream.ts, `docIds.length === 0`), so those rows were never sent (seen with the
 * server stopped in the middle of a run). A canceled replication stores no checkpoint.
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
import { createPushHandler, type BatchReport, type PushDeps } from './push';
/**
 * Rows per push request (the server takes up to 1000), and requests per RxDB batch, sent
 * together (docs/decisions/four-requests-per-batch.md). RxDB reads, notes and checkpoints a batch as one, one batch after another, so larger
 * batches spread that work over more records and keep the server busy on some requests while the
 * page handles others. Chromium, 20,000 records, same machine: one request of 500 a batch ~1,400
 * rows/s; two of 1000 ~2,000; four ~2,200-2,900; eight ~2,250-3,170 (run to run noise is about
 * as large as the step from four to eight). Four: a failed run sends again at most one
 * persistence task of RxDB (up to four batches), which the server writes nothing for.
 */
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_REQUESTS_PER_BATCH = 4;

export interface RunReport {
  acked: number;
  /** Records the pull wrote here: changes made on other devices of the site (one this device holds as it is is not counted). */
  received: number;
  rejected: BatchReport['rejected'];
  conflicts: number;
  superseded: number;
}

export type RunResult = { ok: true; report: RunReport } | { ok: false; failure: SyncFailure; report: RunReport };

export interface DispenseReplication {
  /** Pushes every pending change; resolves when in sync, at the first failure, or at the timeout. */
  run(timeoutMs?: number): Promise<RunResult>;
  /**
   * Makes the records `ids` (which the server lost: resend.ts) pending again, between runs: the
   * next run sends them. The ids done; null when the replication has not run since it was made.
   */
  resend(ids: string[]): Promise<string[] | null>;
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
  /**
   * RxDB's push checkpoint: each time RxDB stores a new one (`exact` false: such notices may
   * come out of order), and as read from RxDB's meta at the start and end of each run (`exact`
   * true; null when RxDB has none, e.g. its meta was lost).
   */
  onCheckpoint?: (checkpoint: PushCheckpoint | null, exact: boolean) => void;
}

const emptyReport = (): RunReport => ({ acked: 0, received: 0, rejected: [], conflicts: 0, superseded: 0 });

interface Live {
  state: RxReplicationState<Dispense, PullCheckpoint>;
  /** Failures that do not come through the handler (storage errors, a failed start). */
  errors: Subject<SyncFailure>;
  sub: Subscription;
  /** The watch on RxDB's stored checkpoint, once the replication has started. */
  checkpoints?: ReturnType<typeof watchPushCheckpoint>;
}

export function createDispenseReplication(db: DispenseDatabase, opts: ReplicationOptions): DispenseReplication {
  let report = emptyReport();
  const failures = new Subject<SyncFailure>();
  const rowsPerRequest = Math.min(opts.batchSize ?? DEFAULT_BATCH_SIZE, MAX_PUSH_ROWS);
  const handler = createPushHandler({
    ...opts,
    rowsPerRequest,
    marks: db.syncmarks,
    onBatch: (b) => {
      report.acked += b.acked;
      report.rejected.push(...b.rejected);
      report.conflicts += b.conflicts;
      report.superseded += b.superseded;
    },
    onFailure: (f) => failures.next(f),
  });
  const pull = createPullHandler({
    ...opts,
    onFailure: (f) => failures.next(f),
    // Called inside a started replication; none after it was discarded (its pull is canceled).
    pushesSettled: () => (live ? pushesUnderWaySettled(live.state) : Promise.resolve()),
  });

  let live: Live | null = null;
  let running: Promise<RunResult> | null = null;
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
      // startSync checks leadership before every run (a manual start() ignores this flag).
      waitForLeadership: false,
      // RxDB retries a failed push itself after retryTime; a run ends at the first failure and
      // cancels, so this only bounds how long RxDB's retry loop sleeps before it notices.
      retryTime: 1000,
    });
    const errors = new Subject<SyncFailure>();
    // RxDB emits a pulled document here once it has written it to this device.
    const received = state.received$.subscribe(() => {
      report.received += 1;
    });
    const sub = state.error$.subscribe((err) => {
      const causes = (err as { parameters?: { errors?: { name?: string }[] } }).parameters?.errors ?? [];
      if (causes.some((e) => e?.name === 'SyncFailure')) return; // already reported by the handler
      errors.next(new SyncFailure('server', `Local sync error: ${err.message.split('\n')[0]}`, err.code ?? null));
    });
    sub.add(received);
    live = { state, errors, sub };
    return live;
  }

  async function discard(): Promise<void> {
    const l = live;
    live = null;
    if (!l) return;
    l.sub.unsubscribe();
    l.checkpoints?.sub.unsubscribe();
    await l.state.cancel();
  }

  async function runOnce(timeoutMs: number): Promise<RunResult> {
    report = emptyReport();
    const live = replication();
    const { state, errors } = live;
    let sub: Subscription | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = new Promise<SyncFailure>((resolve) => {
      sub = merge(failures, errors, stopping).subscribe(resolve);
    });
    const timedOut = new Promise<SyncFailure>((resolve) => {
      timer = setTimeout(() => resolve(new SyncFailure('network', 'The server is too slow to answer; will try again', 'timeout')), timeoutMs);
    });
    let failure: SyncFailure | null = null;
    try {
      const inSync = state.start().then(
        () => {
          if (opts.onCheckpoint && !live.checkpoints) {
            live.checkpoints = watchPushCheckpoint(state, opts.onCheckpoint);
            void live.checkpoints.read().catch(() => {}); // the mirror starts from RxDB's own
          }
          // In sync, then the checkpoint stored (RxDB does not wait for that write) and passed
          // on: a run has ended only once what it pushed is acknowledged.
          return state
            .awaitInSync()
            .then(() => checkpointWritten(state))
            .then(() => live.checkpoints?.read())
            .then(() => null);
        },
        (err: Error) => new SyncFailure('server', `Sync could not start: ${err.message.split('\n')[0]}`, 'start_failed'),
      );
      failure = await Promise.race([inSync, failed, timedOut]);
      return failure ? { ok: false, failure, report } : { ok: true, report };
    } finally {
      sub?.unsubscribe();
      clearTimeout(timer);
      // Idle until the next run. A push in flight now has its answer discarded by RxDB and is
      // sent again next run: at least once, which the server's idempotent upsert makes exactly once.
      if (failure) await discard();
      else await state.pause();
    }
  }

  return {
    run(timeoutMs = 5 * 60_000) {
      running ??= resending
        .then(() => runOnce(timeoutMs))
        .finally(() => {
          running = null;
        });
      return running;
    },
    resend(ids) {
      const job = (async () => {
        await running?.catch(() => {});
        // Started once and paused since (a run that failed made it anew): RxDB's meta is open.
        const state = live?.state;
        if (!state || !replicationMetaOpen(state) || !state.isPaused()) return null;
        return markForResend(state, db.dispenses, ids);
      })();
      resending = job.catch(() => {});
      return job;
    },
    async cancel() {
      // Ends a run in flight at once (sign-out should not wait for a slow server).
      stopping.next(new SyncFailure('network', 'Sync was stopped', 'stopped'));
      await running?.catch(() => {});
      await discard();
    },
  };
}
