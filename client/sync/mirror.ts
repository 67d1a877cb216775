/**
 * Step 6 of the run (run.ts), in every tab: what the sync panel shows. The counts come from this
 * tab's own database (pending after the checkpoint the tab channel carries, the refused records,
 * the oldest pending change, the kept versions); the runs' status comes from the leader on the tab
 * channel (tabs.ts), the leader's own tab included. A tab that does not lead knows itself whether
 * it is offline.
 */
import type { Subscription } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { heldBack$ } from '../data/marks';
import { useSyncStatus, type SyncStatusFields } from '../stores/sync-status';
import { keptCount$ } from './kept';
import { onNetwork } from './network';
import { oldestPendingAt$, pendingCount$ } from './pending';
import { mirrorStatus } from './status';
import { lastPublished, tabMessages$, type PublishedStatus } from './tabs';

export interface Mirror {
  /** The leader's last status this tab has seen (null: none yet). */
  published(): PublishedStatus | null;
  /** This tab leads from now on: `refresh` posts its status again when the network changes. */
  lead(refresh: () => void): void;
  stop(): void;
}

export function startMirror(db: DispenseDatabase, isOnline: () => boolean): Mirror {
  const setStatus = (p: Partial<SyncStatusFields>) => useSyncStatus.setState(p);
  const subs: Subscription[] = [];
  let published: PublishedStatus | null = null;
  let refreshLeader: (() => void) | null = null;
  setStatus({ isLeader: false, countsKnown: false });

  // The exact pending count (an index count, at once however many are pending), the rejected
  // records, and when the oldest pending change was saved (found after the count).
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

  // The leader's status, as it posts it; until the first post, as the last leader kept it.
  const show = (p: PublishedStatus) => {
    published = p;
    setStatus(refreshLeader ? { ...mirrorStatus(p, true), isLeader: true } : mirrorStatus(p, isOnline()));
  };
  let heard = false;
  let stopped = false;
  subs.push(
    tabMessages$(db.name, 'status').subscribe(({ status }) => {
      heard = true;
      show(status);
    }),
  );
  void lastPublished(db)
    .then((kept) => {
      if (kept && !heard && !refreshLeader && !stopped && !db.closed) show(kept);
    })
    .catch(() => {});

  const onNetworkChange = () => {
    if (refreshLeader) refreshLeader();
    else if (published) setStatus(mirrorStatus(published, isOnline()));
    else setStatus({ state: isOnline() ? 'ready' : 'offline' });
  };
  const offNetwork = [onNetwork('online', onNetworkChange), onNetwork('offline', onNetworkChange)];
  if (!isOnline()) onNetworkChange();

  return {
    published: () => published,
    lead(refresh) {
      refreshLeader = refresh;
    },
    stop() {
      stopped = true;
      subs.forEach((s) => s.unsubscribe());
      offNetwork.forEach((off) => off());
    },
  };
}
