/**
 * Proof of delivery: the leader tab reports this device's figures (pending count, oldest pending
 * change, app version, records made since set-up, the records the server refused that it holds
 * back and why) to POST /api/sync/devices/report after each run and when the pending count
 * changes, so a site admin sees a device holding records even when its auto sync is off. The
 * answer's serverTime measures this device's clock (clock.ts). Best effort: a report that fails
 * is simply made again at the next change or run.
 */
import { combineLatest, debounceTime, firstValueFrom, startWith, Subject } from 'rxjs';
import { version as APP_VERSION } from '../../package.json';
import { deviceReportResponseSchema, MAX_REPORTED_REFUSED, type DeviceReport, type RefusedRecord } from '../../schemas/devices';
import { offsetFrom, useClock } from '../data/clock';
import { followServerAccess, forgetSite } from '../offline/accounts';
import type { DispenseDatabase } from '../data/db';
import { madeCount } from '../data/device-made';
import { useDelivery } from '../stores/delivery';
import { countAfter, firstAfter } from '../data/rxdb';
import { storedCheckpoint } from './checkpoint';
import { SyncFailure, syncRequest, type SyncHttpDeps } from './http';
import { heldBack$, type HeldBack } from '../data/marks';
import { browserOnline } from './network';
import { pendingCount$ } from './pending';

/**
 * Records this device made that the server lacks although they are not waiting to be sent: at most
 * `pending + rejected` of the records made can be unsent, so the server holding fewer than the rest
 * means it lost some (restored from an older backup). Never more than 0 by a race: a record leaves
 * the pending count only after the server committed it.
 */
export function serverLacks(f: { made: number; pending: number; rejected: number; serverHolds: number }): number {
  return Math.max(0, f.made - f.pending - f.rejected - f.serverHolds);
}

/** A record the device holds back, as its site's admin reads it: which record, and the server's reason. */
export function refusedForAdmin({ mark, record }: HeldBack): RefusedRecord {
  const out: RefusedRecord = {
    externalId: record.externalId,
    patientId: record.patientId,
    medicationName: record.medicationName,
    dispensedAt: record.dispensedAt,
    voided: record.status === 'voided',
    code: (mark.code ?? 'rejected').slice(0, 64),
    reason: (mark.reason ?? 'Refused by the server').slice(0, 500),
  };
  if (record.patientName) out.patientName = record.patientName;
  return out;
}

export interface DeviceReporter {
  /** A run ended: report the figures once they settle. */
  afterRun(): void;
  /**
   * Reports now, once per session, and resolves when answered or failed (at most `waitMs`): the
   * first run waits for it, so the server knows this device's clock offset before its first push
   * and each audit row of the session keeps it.
   */
  first(waitMs?: number): Promise<void>;
  dispose(): void;
}

export interface DeviceReportDeps extends SyncHttpDeps {
  siteId: string;
  /** Figures are sent once they have been still this long (default 1 s). */
  quietMs?: number;
  /** The server lacks records this device made and has not sent (a restored backup): resend.ts finds and sends them again. */
  onServerLacks?: (figures: { made: number; serverHolds: number }) => void;
}

export function startDeviceReports(db: DispenseDatabase, deps: DeviceReportDeps): DeviceReporter {
  const runs$ = new Subject<void>();
  let disposed = false;
  let sending: Promise<void> = Promise.resolve();
  // The global fetch, not the run's: a report is no part of the run, and what counts a run's requests must not see it.
  const http: SyncHttpDeps = { ...deps, fetch: undefined, requestTimeoutMs: 30_000 };

  const send = () => {
    sending = sending.then(async () => {
      if (disposed || db.closed || !browserOnline() || !deps.getToken()) return;
      // Each read fresh, in this order: the records made (counted once stored), then those pending,
      // then those refused, then (the server's answer) those it holds. A record counted as made is
      // then pending, refused, or was committed before the server counted: a record made while an
      // earlier report was on its way cannot look lost (it did, with the count of the last change).
      const made = madeCount(db.name, deps.siteId);
      const pendingCount = await countAfter(db.dispenses, storedCheckpoint(db.name));
      const held = await firstValueFrom(heldBack$(db.syncmarks, db.dispenses));
      const rejected = held.length;
      const oldest = pendingCount === 0 ? null : await firstAfter(db.dispenses, storedCheckpoint(db.name));
      const sentAt = Date.now();
      const body: DeviceReport = {
        pendingCount,
        oldestPendingAt: oldest ? new Date(Math.floor(oldest.lwt)).toISOString() : null,
        appVersion: APP_VERSION,
        madeCount: made,
        deviceTime: new Date(sentAt).toISOString(),
        refusedCount: rejected,
        refused: held.slice(0, MAX_REPORTED_REFUSED).map(refusedForAdmin),
      };
      try {
        const answer = await syncRequest(http, '/api/sync/devices/report', deviceReportResponseSchema, { method: 'POST', body });
        useClock.getState().note(offsetFrom(Date.parse(answer.serverTime), sentAt, Date.now()));
        const lacks = serverLacks({ made, pending: pendingCount, rejected, serverHolds: answer.serverHolds });
        useDelivery.setState({ serverLacks: lacks });
        if (lacks > 0) deps.onServerLacks?.({ made, serverHolds: answer.serverHolds });
        // The next online contact after a colleague was disabled or reset drops their verifier here.
        followServerAccess(deps.siteId, answer.offlineAccess);
      } catch (err) {
        // A revoked device keeps no verifier of the site. Anything else is best effort: the next change or run reports again.
        if (err instanceof SyncFailure && err.code === 'device_revoked') forgetSite(deps.siteId);
      }
    });
    return sending;
  };

  // Each change of the pending records, and each run's end, once still for `quietMs`.
  const sub = combineLatest([pendingCount$(db), runs$.pipe(startWith(undefined))])
    .pipe(debounceTime(deps.quietMs ?? 1000))
    .subscribe(() => void send());
  let firstSent: Promise<void> | null = null;

  return {
    afterRun: () => runs$.next(),
    first(waitMs = 5000) {
      // Waited for once: every later run goes at once (no new wait, no timer left running).
      firstSent ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([send(), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
        clearTimeout(timer);
      })();
      return firstSent;
    },
    dispose: () => {
      disposed = true;
      sub.unsubscribe();
      useDelivery.setState({ serverLacks: 0 }); // nothing of this database's answer stays for the next session
    },
  };
}
