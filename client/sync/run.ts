/**
 * The sync run, step by step: where a record goes from this device's database to the server, and
 * how every tab learns that it arrived (docs/decisions/sync-run-protocol.md). Each step is a call
 * into the module that owns it:
 *   1. Leadership: only the tab RxDB elects leader replicates.
 *   2. The device report: the session's first goes before its first push (device-report.ts).
 *   3. Push: RxDB hands the pending changes in batches to push.ts, which posts them and marks
 *      what the server refused or won (data/marks.ts).
 *   4. Pull, after the pushes: the site's changes since the last pull (pull.ts), each page handed
 *      to RxDB once the pushes under way are answered.
 *   5. Checkpoint: RxDB stores the last change the server answered, acknowledging it and every one
 *      before it; the mirror of it is kept for the next start (checkpoint.ts).
 *   6. Mirror: the checkpoint and the run's status go to every tab on the one tab channel (tabs.ts);
 *      each tab counts what is pending after the checkpoint and shows it (mirror.ts).
 *   7. Pause or discard: idle until the next run; a failed run's replication is discarded.
 * When a run happens is the scheduler's decision (scheduler.ts); what its result says, status.ts's.
 */
import type { DispenseDatabase } from '../data/db';
import { INITIAL_SYNC_STATUS, useSyncStatus } from '../stores/sync-status';
import { useSyncSettings } from '../stores/sync-settings';
import { publishCheckpoint } from './checkpoint';
import { startDeviceReports } from './device-report';
import { runOwedAtStart } from './first-pull';
import type { SyncFailure } from './http';
import { startMirror } from './mirror';
import { browserOnline } from './network';
import { createDispenseReplication } from './replication';
import { createResender } from './resend';
import type { Leader, SyncController, SyncDeps } from './run-types';
import { createScheduler, type RunOutcome } from './scheduler';
import { afterRun, firstRecord, outcomeOf, statusOf, type RunRecord, type RunResult } from './status';
import { lastPublished, requestRun, runRequests$, statusPublisher, type PublishedStatus } from './tabs';

/** One sync per database in a tab: a second startSync stops the first (two replications on one collection push twice). */
const ACTIVE = new WeakMap<DispenseDatabase, SyncController>();

/** What the app calls once it has a site's database and a session, in every tab. */
export function startSync(db: DispenseDatabase, deps: SyncDeps): SyncController {
  const previousStopped = ACTIVE.get(db)?.stop() ?? Promise.resolve();
  let stopped = false;
  let leader: Leader | null = null;
  let settleLeading: (leads: boolean) => void = () => {};
  const leading = new Promise<boolean>((resolve) => (settleLeading = resolve));
  // 6. The mirror runs in every tab from the start: the counts of this tab's database, the status the leader posts.
  const mirror = startMirror(db, deps.scheduler?.isOnline ?? browserOnline);
  // 1. Leadership: until this tab leads, "Sync now" asks the leader on the tab channel.
  const leads = async () => {
    await db.waitForLeadership();
    await previousStopped;
    // Read, not waited for on the channel: which requests were handled must be known first.
    const kept = stopped || db.closed ? null : ((await lastPublished(db)) ?? mirror.published());
    if (stopped || db.closed) return;
    mirror.lead(() => leader?.refresh());
    leader = lead(db, deps, kept, () => stopped);
  };
  void leads().then(
    () => settleLeading(leader !== null),
    () => settleLeading(false),
  );

  const controller: SyncController = {
    leading,
    syncNow: () => (stopped ? Promise.resolve() : leader ? leader.syncNow() : requestRun(db)),
    async stop() {
      if (stopped) return;
      stopped = true;
      settleLeading(false);
      if (ACTIVE.get(db) === controller) ACTIVE.delete(db);
      mirror.stop();
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

/** The leader tab's part: the replication and what drives it; `stopped()` is true once the tab's sync is stopping. */
function lead(db: DispenseDatabase, deps: SyncDeps, previous: PublishedStatus | null, stopped: () => boolean): Leader {
  const isOnline = deps.scheduler?.isOnline ?? browserOnline;
  const http = { baseUrl: deps.baseUrl, siteId: deps.siteId, getToken: deps.getToken, deviceId: deps.deviceId };
  // 2. The device report, after each run and change of the pending count; a restored server's lacks are sent again.
  const reports = startDeviceReports(db, { ...http, onServerLacks: (figures) => void resender.check(figures) });
  const replication = createDispenseReplication(db, {
    ...http,
    fetch: deps.fetch,
    batchSize: deps.batchSize,
    requestsPerBatch: deps.requestsPerBatch,
    pullBatchSize: deps.pullBatchSize,
    onWindow: (receiving) => useSyncStatus.setState({ receiving }),
    // 5 and 6. Each checkpoint RxDB stores, kept and posted to every tab: the acknowledgement.
    onCheckpoint: (cp, exact) => {
      if (!db.closed) publishCheckpoint(db, cp, exact);
    },
  });
  const resender = createResender(db, replication, { ...http, requestTimeoutMs: 30_000 });
  let record: RunRecord = firstRecord(previous);
  let lastRun: RunResult | null = null;
  let refusedToken: string | null = null; // the server refused it: no automatic run until the session has another
  const statuses = statusPublisher(db);
  const publish = () => statuses.publish(statusOf(record, scheduler.snapshot(), isOnline()));

  async function run(): Promise<RunOutcome> {
    // 1. Leadership, again: a manual start() ignores RxDB's, and two tabs would push the same rows.
    if (stopped() || db.closed || !db.isLeader()) return { kind: 'skipped' };
    const token = deps.getToken();
    if (!token) lastRun = null;
    else {
      // 2. The device report: the server knows this device's clock before its first push.
      await reports.first();
      let failure: SyncFailure | null = null;
      try {
        // 3 and 4. Push every pending change, pull the site's: until in sync, a failure or the timeout.
        failure = await replication.sync(deps.runTimeoutMs);
        // 5 and 6. The checkpoint as RxDB stored it, kept and posted: the run's pushes acknowledged in every tab.
        if (!failure) await replication.checkpoint();
      } finally {
        // 7. Pause, or discard after a failure.
        await (failure ? replication.discard() : replication.pause());
      }
      const report = replication.report();
      lastRun = failure ? { ok: false, failure, report } : { ok: true, report };
    }
    const outcome = outcomeOf(lastRun);
    if (outcome.kind === 'unauthorized' && token) refusedToken = token;
    return outcome;
  }

  const scheduler = createScheduler({
    ...deps.scheduler,
    run,
    enabled: useSyncSettings.getState().enabled,
    intervalSeconds: useSyncSettings.getState().intervalSeconds,
    canRetryAuth: () => {
      const t = deps.getToken();
      return t !== null && t !== refusedToken;
    },
    onEvent: (event) => {
      if (event.type === 'run-start') useSyncStatus.setState({ receiving: null });
      if (event.type === 'run-end') {
        record = afterRun(record, event.outcome, lastRun, new Date());
        reports.afterRun();
        if (event.outcome.kind === 'unauthorized') deps.onUnauthorized?.(lastRun && !lastRun.ok ? lastRun.failure : null, refusedToken);
      }
      // 6. The run's status to every tab (after 7: no tab says "ready" while the replication still pauses).
      publish();
    },
  });
  const offSettings = useSyncSettings.subscribe((s, prev) => {
    if (s.enabled !== prev.enabled) void (s.enabled ? scheduler.start() : scheduler.pause());
    if (s.intervalSeconds !== prev.intervalSeconds) scheduler.setIntervalSeconds(s.intervalSeconds);
  });
  // "Sync now" pressed in another tab (also one posted before this tab led: its tab posts it again).
  const requests = runRequests$(db.name).subscribe((id) => {
    if (id === record.handledRequestId) return;
    void scheduler.syncNow().then(() => {
      record = { ...record, handledRequestId: id };
      publish();
    });
  });

  publish();
  // A start or a sign-in with records waiting, or a new device of a site with records: a run now if the scheduler allows one.
  void runOwedAtStart(db, deps.baseUrl, deps.getToken()).then((owed) => {
    if (owed && !stopped() && !db.closed) void scheduler.runOwed();
  });
  return {
    syncNow: () => scheduler.syncNow(),
    refresh: publish,
    async dispose() {
      offSettings();
      reports.dispose();
      requests.unsubscribe();
      await Promise.all([scheduler.dispose(), replication.cancel()]);
      await statuses.settled();
    },
  };
}
