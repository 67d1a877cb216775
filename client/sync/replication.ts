/**
 * The push replication of `dispenses` (RxDB replicateRxCollection, push only) and one run of it.
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
import type { Dispense } from '../../schemas/dispense';
import type { DispenseDatabase } from '../db';
import { createPushHandler, PushFailure, type BatchReport, type PushDeps } from './push';

export const REPLICATION_ID = 'sems-dispenses-push-v1';
export const DEFAULT_BATCH_SIZE = 500;

export interface RunReport {
  acked: number;
  rejected: BatchReport['rejected'];
  conflicts: number;
  superseded: number;
}

export type RunResult = { ok: true; report: RunReport } | { ok: false; failure: PushFailure; report: RunReport };

export interface DispenseReplication {
  /** Pushes every pending change; resolves when in sync, at the first failure, or at the timeout. */
  run(timeoutMs?: number): Promise<RunResult>;
  cancel(): Promise<void>;
}

export interface ReplicationOptions extends Omit<PushDeps, 'marks' | 'onBatch' | 'onFailure'> {
  batchSize?: number;
}

const emptyReport = (): RunReport => ({ acked: 0, rejected: [], conflicts: 0, superseded: 0 });

interface Live {
  state: RxReplicationState<Dispense, unknown>;
  /** Failures that do not come through the handler (storage errors, a failed start). */
  errors: Subject<PushFailure>;
  sub: Subscription;
}

export function createDispenseReplication(db: DispenseDatabase, opts: ReplicationOptions): DispenseReplication {
  let report = emptyReport();
  const failures = new Subject<PushFailure>();
  const handler = createPushHandler({
    ...opts,
    marks: db.syncmarks,
    onBatch: (b) => {
      report.acked += b.acked;
      report.rejected.push(...b.rejected);
      report.conflicts += b.conflicts;
      report.superseded += b.superseded;
    },
    onFailure: (f) => failures.next(f),
  });

  let live: Live | null = null;
  let running: Promise<RunResult> | null = null;
  const stopping = new Subject<PushFailure>();

  function replication(): Live {
    if (live) return live;
    const state = replicateRxCollection<Dispense, unknown>({
      replicationIdentifier: REPLICATION_ID,
      collection: db.dispenses,
      push: { handler, batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE },
      live: true,
      autoStart: false,
      toggleOnDocumentVisible: false,
      // startSync checks leadership before every run (a manual start() ignores this flag).
      waitForLeadership: false,
      // RxDB retries a failed push itself after retryTime; a run ends at the first failure and
      // cancels, so this only bounds how long RxDB's retry loop sleeps before it notices.
      retryTime: 1000,
    });
    const errors = new Subject<PushFailure>();
    const sub = state.error$.subscribe((err) => {
      const causes = (err as { parameters?: { errors?: { name?: string }[] } }).parameters?.errors ?? [];
      if (causes.some((e) => e?.name === 'PushFailure')) return; // already reported by the handler
      errors.next(new PushFailure('server', `Local sync error: ${err.message.split('\n')[0]}`, err.code ?? null));
    });
    live = { state, errors, sub };
    return live;
  }

  async function discard(): Promise<void> {
    const l = live;
    live = null;
    if (!l) return;
    l.sub.unsubscribe();
    await l.state.cancel();
  }

  async function runOnce(timeoutMs: number): Promise<RunResult> {
    report = emptyReport();
    const { state, errors } = replication();
    let sub: Subscription | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failed = new Promise<PushFailure>((resolve) => {
      sub = merge(failures, errors, stopping).subscribe(resolve);
    });
    const timedOut = new Promise<PushFailure>((resolve) => {
      timer = setTimeout(() => resolve(new PushFailure('network', 'The server is too slow to answer; will try again', 'timeout')), timeoutMs);
    });
    let failure: PushFailure | null = null;
    try {
      const inSync = state.start().then(
        () => state.awaitInSync().then(() => null),
        (err: Error) => new PushFailure('server', `Sync could not start: ${err.message.split('\n')[0]}`, 'start_failed'),
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
      running ??= runOnce(timeoutMs).finally(() => {
        running = null;
      });
      return running;
    },
    async cancel() {
      // Ends a run in flight at once (sign-out should not wait for a slow server).
      stopping.next(new PushFailure('network', 'Sync was stopped', 'stopped'));
      await running?.catch(() => {});
      await discard();
    },
  };
}
