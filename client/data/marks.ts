/**
 * Sync marks: the records the server answered with something other than "taken". A refused
 * version waits in a 'rejected' mark, with the server's reason, until the record is edited; a
 * version that lost a conflict to the server's is kept in its mark ('superseded'). Confirmations
 * are not marked one by one: they are acknowledged by range (sync/checkpoint.ts), so a mark is only
 * written for these few rows.
 *
 * Version 1 of the schema drops what the per-record marks of an earlier version wrote (a mark per
 * pending or confirmed record): markMigrations turns a database made by it into this one.
 */
import { map, of, switchMap, type Observable } from 'rxjs';
import type { MigrationStrategies, RxCollection, RxJsonSchema } from 'rxdb';
import type { Dispense } from '../../schemas/dispense';
import { storedDocs$, withoutMeta } from './rxdb';

export type MarkState = 'rejected' | 'superseded';

export interface SyncMark {
  externalId: string;
  /** 'rejected': the server refused the version below; 'superseded': the server's version won a conflict. Indexed. */
  state: MarkState;
  /** updatedAt of the version the record holds since the mark was written. */
  localUpdatedAt: string;
  /** updatedAt of the version the server refused, with its reason. */
  rejectedUpdatedAt?: string;
  code?: string;
  reason?: string;
  /** When the mark was written. */
  markedAt: string;
  /** JSON of the last version of this device that lost a conflict (kept, shown, never pushed). */
  superseded?: string;
}

export type SyncMarkCollection = RxCollection<SyncMark>;

const iso = { type: 'string', maxLength: 24 } as const;
export const syncMarkSchema: RxJsonSchema<SyncMark> = {
  title: 'sync marks of dispenses',
  version: 1,
  primaryKey: 'externalId',
  type: 'object',
  properties: {
    externalId: { type: 'string', maxLength: 36 },
    state: { type: 'string', enum: ['rejected', 'superseded'], maxLength: 10 },
    localUpdatedAt: iso,
    rejectedUpdatedAt: iso,
    code: { type: 'string', maxLength: 64 },
    reason: { type: 'string', maxLength: 2000 },
    markedAt: iso,
    superseded: { type: 'string', maxLength: 20000 },
  },
  required: ['externalId', 'state', 'localUpdatedAt', 'markedAt'],
  indexes: ['state'],
  additionalProperties: false,
};

/**
 * From version 0 (the per-record marks of earlier builds): a mark of a pending or confirmed
 * record goes (what is pending is known from the checkpoint now); a confirmed one that kept a
 * version lost to a conflict becomes 'superseded'; the fields no longer read go.
 */
export const markMigrations: MigrationStrategies = {
  1: (old: Record<string, unknown>) => {
    const { ackedUpdatedAt: _acked, pendingSince: _since, ...mark } = old;
    if (mark.state === 'rejected') return mark;
    if (mark.state === 'synced' && typeof mark.superseded === 'string') return { ...mark, state: 'superseded' };
    return null;
  },
};

/** The server refused this version; it stays aside, with the reason, until the record is edited. */
export function markRejected(m: SyncMark | null, externalId: string, updatedAt: string, code: string, reason: string, now: string): SyncMark {
  const out: SyncMark = {
    externalId,
    state: 'rejected',
    localUpdatedAt: updatedAt,
    rejectedUpdatedAt: updatedAt,
    code,
    reason: reason.slice(0, 2000),
    markedAt: now,
  };
  if (m?.superseded) out.superseded = m.superseded;
  return out;
}

/** The server's version won a conflict against `lost`: the record becomes the server's version, `lost` is kept in the mark. */
export function markSuperseded(lost: Dispense, winner: Dispense, now: string): SyncMark {
  return {
    externalId: lost.externalId,
    state: 'superseded',
    localUpdatedAt: winner.updatedAt,
    markedAt: now,
    superseded: JSON.stringify(lost),
  };
}

/**
 * Applies `change` to the marks of `ids` in one batch. Each mark is changed through RxDB's
 * incremental write queue, which re-reads and re-applies on a write conflict (another tab), so a
 * transition always starts from the stored mark. `change(null)` returning null creates nothing.
 */
export async function updateMarks(
  marks: SyncMarkCollection,
  ids: string[],
  change: (m: SyncMark | null, id: string) => SyncMark | null,
): Promise<void> {
  if (ids.length === 0) return;
  const found = await marks.findByIds(ids).exec();
  const inserts: SyncMark[] = [];
  const writes: Promise<unknown>[] = [];
  const modify = (id: string) => {
    const doc = found.get(id) ?? null;
    if (doc) writes.push(doc.incrementalModify((d) => ({ ...(change(d, id) ?? d), externalId: id })));
  };
  for (const id of ids) {
    if (found.has(id)) modify(id);
    else {
      const m = change(null, id);
      if (m) inserts.push({ ...m, externalId: id });
    }
  }
  if (inserts.length > 0) {
    const res = await marks.bulkInsert(inserts);
    const raced = res.error.filter((e) => e.status === 409).map((e) => e.documentId);
    const other = res.error.find((e) => e.status !== 409);
    if (other) throw new Error(`Writing sync marks failed (${other.status}) for ${other.documentId}`);
    if (raced.length > 0) {
      // Another tab made these marks meanwhile: apply the change to what it wrote.
      const now = await marks.findByIds(raced).exec();
      for (const [id, doc] of now) found.set(id, doc);
      raced.forEach(modify);
    }
  }
  await Promise.all(writes);
}

/** A record the server refused, as this device holds it, with its mark (the code and the reason). */
export interface HeldBack {
  mark: SyncMark;
  record: Dispense;
}

/** True when `mark` says the server refused exactly the version `record` holds. */
export function isRefusedVersion(mark: SyncMark | null | undefined, record: Pick<Dispense, 'updatedAt'>): boolean {
  return mark?.state === 'rejected' && mark.rejectedUpdatedAt === record.updatedAt;
}

/**
 * The records refused by the server that still hold the refused version, newest refusal first,
 * live: a refused record that was edited since is pending again (or confirmed), whatever its old
 * mark says.
 */
export function heldBack$(marks: SyncMarkCollection, records: RxCollection<Dispense>): Observable<HeldBack[]> {
  const rejected$ = marks.find({ selector: { state: 'rejected' } }).$.pipe(map((docs) => docs.map((d) => d.toJSON() as SyncMark)));
  return rejected$.pipe(
    switchMap((list) => {
      if (list.length === 0) return of([]);
      return storedDocs$(
        records,
        list.map((m) => m.externalId),
      ).pipe(
        map((docs) => {
          const held = new Map(docs.map((doc) => withoutMeta(doc)).map((record) => [record.externalId, record]));
          return list
            .filter((m) => held.has(m.externalId) && isRefusedVersion(m, held.get(m.externalId)!))
            .sort((a, b) => b.markedAt.localeCompare(a.markedAt) || a.externalId.localeCompare(b.externalId))
            .map((mark) => ({ mark, record: held.get(mark.externalId)! }));
        }),
      );
    }),
  );
}

/** The marks of the records heldBack$ gives. */
export function rejectedMarks$(marks: SyncMarkCollection, records: RxCollection<Dispense>): Observable<SyncMark[]> {
  return heldBack$(marks, records).pipe(map((list) => list.map((h) => h.mark)));
}
