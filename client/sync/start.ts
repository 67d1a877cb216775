/**
 * startSync: what the app calls once it has a site's database and a session. Every tab shows the
 * status: the counts from its own database, the runs as the leader tab publishes them (tabs.ts).
 * The tab RxDB elects leader runs the sync (leader.ts). Between runs no request leaves.
 */
import type { Subscription } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { INITIAL_SYNC_STATUS, useSyncStatus, type SyncStatusFields } from '../stores/sync-status';
import { lead, type Leader, type SyncDeps } from './leader';
import { keptCount$ } from './kept';
import { heldBack$ } from '../data/marks';
import { browserOnline, onNetwork } from './network';
import { oldestPendingAt$, pendingCount$ } from './pending';
import { mirrorStatus, type PublishedStatus } from './status';
import { lastPublished, publishedStatus$, requestRun } from './tabs';

export type { SyncDeps } from './leader';

export interface SyncController {
  /** Runs a sync now (in another tab if that one leads) and resolves when it has ended. */
  syncNow(): Promise<void>;
  /** Stops the timer and the replication of this tab; records stay on the device. */
  stop(): Promise<void>;
  /** True once this tab leads and its sync is set up; false if it stopped first (docs/decisions/tests-wait-on-events.md). */
  leading: Promise<boolean>;
}

/** One sync per database in a tab: a second startSync stops the first (two replications on one collection push twice). */
const ACTIVE = new WeakMap<DispenseDatabase, SyncController>();

export function startSync(db: DispenseDatabase, deps: SyncDeps): SyncController {
  const isOnline = deps.scheduler?.isOnline ?? browserOnline;
  const setStatus = (p: Partial<SyncStatusFields>) => useSyncStatus.setState(p);
  const subs: Subscription[] = [];
  let stopped = false;
  let leader: Leader | null = null;
  let published: PublishedStatus | null = null;
  let leads: (yes: boolean) => void = () => {};
  const leading = new Promise<boolean>((resolve) => (leads = resolve));

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
    heldBack$(db.syncmarks, db.dispenses).subscribe((held) => {
      setStatus({
        rejected: held.map(({ mark, record }) => ({
          externalId: record.externalId,
          code: mark.code ?? 'rejected',
          message: mark.reason ?? 'Rejected by the server',
          patientId: record.patientId,
          patientName: record.patientName,
          medicationName: record.medicationName,
          dispensedAt: record.dispensedAt,
          voided: record.status === 'voided',
        })),
      });
      noteKnown('rejected');
    }),
    oldestPendingAt$(db).subscribe((at) => setStatus({ oldestPendingAt: at })),
    keptCount$(db.syncmarks).subscribe((keptCount) => setStatus({ keptCount })),
  );

  // Every tab that does not lead: the leader's status.
  subs.push(
    publishedStatus$(db).subscribe((p) => {
      published = p;
      if (!leader && p) setStatus(mirrorStatus(p, isOnline()));
    }),
  );
  const onNetworkChange = () => {
    if (leader) leader.refresh();
    else if (published) setStatus(mirrorStatus(published, isOnline()));
    else setStatus({ state: isOnline() ? 'ready' : 'offline' });
  };
  const offNetwork = [onNetwork('online', onNetworkChange), onNetwork('offline', onNetworkChange)];
  if (!isOnline()) onNetworkChange();

  void db
    .waitForLeadership()
    .then(async () => {
      await previousStopped;
      if (stopped || db.closed) return;
      // Read, not awaited from the observable: which requests were handled must be known first.
      const prev = (await lastPublished(db)) ?? published;
      if (!stopped && !db.closed) leader = lead(db, deps, prev, () => stopped);
      leads(leader !== null);
    })
    .catch(() => {});

  const controller: SyncController = {
    leading,
    syncNow() {
      if (stopped) return Promise.resolve();
      return leader ? leader.syncNow() : requestRun(db);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      leads(false);
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
