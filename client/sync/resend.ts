/**
 * Sending again what a restored server lost. When the server holds fewer of this device's records
 * than it made and has not sent (device-report.ts: serverLacks), its database was restored from an
 * older backup: the device walks the records it made, asks the server in pages which its site no
 * longer holds (POST /api/sync/dispenses/missing), and makes exactly those pending again; the next
 * run's ordinary push sends them (docs/decisions/resend-after-restore.md). The push is idempotent
 * and applies the conflict rule, so a record the server does hold meanwhile costs nothing.
 */
import { MAX_MISSING_IDS, missingResponseSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseDatabase } from '../data/db';
import { idsAfter, madeHerePage } from '../data/rxdb';
import { storedCheckpoint } from './checkpoint';
import { syncRequest, type SyncHttpDeps } from './http';
import type { DispenseReplication } from './replication';

export interface ResendDeps extends SyncHttpDeps {
  /** The site of the database: only its records are asked about and sent. */
  siteId: string;
}

/**
 * The records this device made that the server's site does not hold. A record whose version the
 * server refused is left out while it holds that version: sent again, it would be refused again.
 */
export async function findMissing(db: DispenseDatabase, deps: ResendDeps): Promise<string[]> {
  const refused = new Map(
    (await db.syncmarks.find({ selector: { state: 'rejected' } }).exec()).map((m) => [m.externalId, m.rejectedUpdatedAt ?? null]),
  );
  // A pending record is sent by the next run in any case: not asked about, not rewritten.
  const pending = new Set(await idsAfter(db.dispenses, storedCheckpoint(db.name)));
  const missing: string[] = [];
  for (let after: string | null = null; ;) {
    const page: { made: Dispense[]; last: string | null } = await madeHerePage(db.dispenses, after, MAX_MISSING_IDS);
    if (page.last === null) break;
    after = page.last;
    const ask = page.made
      .filter((d) => d.siteId === deps.siteId && !pending.has(d.externalId) && refused.get(d.externalId) !== d.updatedAt)
      .map((d) => d.externalId);
    if (ask.length === 0) continue;
    const answer = await syncRequest(deps, '/api/sync/dispenses/missing', missingResponseSchema, { method: 'POST', body: { externalIds: ask } });
    const asked = new Set(ask);
    missing.push(...answer.missing.filter((id) => asked.has(id))); // nothing the device did not ask about
  }
  return missing;
}

/** What the device report saw: records made here and how many of them the server holds. */
export interface LackFigures {
  made: number;
  serverHolds: number;
}

export interface Resender {
  /** The server lacks records this device made: find and resend them, unless these figures were already checked in vain. */
  check(figures: LackFigures): Promise<void>;
}

/**
 * One check at a time. A walk that found nothing to send again is not repeated for the same
 * figures (a record the device cannot identify as its own would otherwise make every report walk
 * every record); new figures (a record made, a push confirmed) check again.
 */
export function createResender(db: DispenseDatabase, replication: Pick<DispenseReplication, 'resend'>, deps: ResendDeps): Resender {
  let checkedInVain: string | null = null;
  let busy = false;
  return {
    async check(figures) {
      const key = `${figures.made}:${figures.serverHolds}`;
      if (busy || key === checkedInVain || db.closed) return;
      busy = true;
      try {
        const missing = await findMissing(db, deps);
        const done = missing.length > 0 ? await replication.resend(missing) : [];
        if (done !== null) checkedInVain = done.length === 0 ? key : null;
      } catch {
        // a failed ask or write: the next report checks again
      } finally {
        busy = false;
      }
    },
  };
}
