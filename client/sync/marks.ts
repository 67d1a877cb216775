/**
 * Sync marks: per record, which version was written on this device and which version the server
 * confirmed (or rejected). A record is pending while the two differ; this is what the pending
 * count, the list's badges and the rejected list are computed from, in every tab.
 *
 * Why marks and not RxDB's replication meta: the meta lives in the leader's replication only and
 * is internal to RxDB. Marks are written BEFORE the record (records.ts) and acknowledged AFTER the
 * server answered (push.ts), so at any moment the count can be too high, never too low: the panel
 * never says "synced" while a change is unconfirmed. A mark left ahead of its record by a crash
 * between the two writes is put right by reconcileMarks (after MARK_SETTLE_MS).
 */
import { concat, defer, distinctUntilChanged, from, map, of, switchMap, timer, type Observable } from 'rxjs';
import type { RxCollection, RxJsonSchema } from 'rxdb';
import type { Dispense } from '../../schemas/dispense';
import { readAll } from '../index-read';

export type MarkState = 'pending' | 'rejected' | 'synced';

export interface SyncMark {
  externalId: string;
  /** Derived from the versions below; stored for the index ('pending' < 'rejected' < 'synced'). */
  state: MarkState;
  /** updatedAt of the version last written on this device. */
  localUpdatedAt: string;
  /** updatedAt of the version the server last confirmed holding. */
  ackedUpdatedAt?: string;
  /** updatedAt of the version the server last refused, with its reason. */
  rejectedUpdatedAt?: string;
  code?: string;
  reason?: string;
  /** When the oldest unconfirmed change was saved (wall clock); set while pending. */
  pendingSince?: string;
  /** Wall clock of the last local write, to tell a mark in flight from one left by a crash. */
  markedAt: string;
  /** JSON of the last version of this device that lost a conflict (kept, shown, never pushed). */
  superseded?: string;
}

export type SyncMarkCollection = RxCollection<SyncMark>;

/** How long a mark may run ahead of its record before reconcileMarks treats it as left by a crash. */
export const MARK_SETTLE_MS = 60_000;

const iso = { type: 'string', maxLength: 24 } as const;
export const syncMarkSchema: RxJsonSchema<SyncMark> = {
  title: 'sync marks of dispenses',
  version: 0,
  primaryKey: 'externalId',
  type: 'object',
  properties: {
    externalId: { type: 'string', maxLength: 36 },
    state: { type: 'string', enum: ['pending', 'rejected', 'synced'], maxLength: 8 },
    localUpdatedAt: iso,
    ackedUpdatedAt: iso,
    rejectedUpdatedAt: iso,
    code: { type: 'string', maxLength: 64 },
    reason: { type: 'string', maxLength: 2000 },
    pendingSince: iso,
    markedAt: iso,
    superseded: { type: 'string', maxLength: 20000 },
  },
  required: ['externalId', 'state', 'localUpdatedAt', 'markedAt'],
  indexes: ['state'],
  additionalProperties: false,
};

function settle(m: SyncMark, now: string): SyncMark {
  const state: MarkState =
    m.localUpdatedAt === m.ackedUpdatedAt ? 'synced' : m.localUpdatedAt === m.rejectedUpdatedAt ? 'rejected' : 'pending';
  const out: SyncMark = { ...m, state };
  if (state === 'pending') out.pendingSince = m.state === 'pending' && m.pendingSince ? m.pendingSince : now;
  else delete out.pendingSince;
  if (state !== 'rejected') {
    delete out.rejectedUpdatedAt;
    delete out.code;
    delete out.reason;
  }
  for (const k of Object.keys(out) as (keyof SyncMark)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** A version is about to be written on this device. */
export function markLocalWrite(m: SyncMark | null, updatedAt: string, now: string): SyncMark {
  const base: SyncMark = m ?? { externalId: '', state: 'synced', localUpdatedAt: '', markedAt: now };
  return settle({ ...base, localUpdatedAt: updatedAt, markedAt: now }, now);
}

/** The server holds this version (it took it, or already had it). */
export function markAcked(m: SyncMark, updatedAt: string, now: string): SyncMark {
  return settle({ ...m, ackedUpdatedAt: updatedAt }, now);
}

/** The server refused this version; it stays aside until the record is edited. */
export function markRejected(m: SyncMark, updatedAt: string, code: string, reason: string, now: string): SyncMark {
  return settle({ ...m, rejectedUpdatedAt: updatedAt, code, reason: reason.slice(0, 2000) }, now);
}

/**
 * The server's version won a conflict against `lost`: the record becomes the server's version
 * (synced) and `lost` is kept in the mark. Unchanged if a newer local write came in since.
 */
export function markSuperseded(m: SyncMark, lost: Dispense, winner: Dispense, now: string): SyncMark {
  if (m.localUpdatedAt !== lost.updatedAt) return m;
  return settle({ ...m, localUpdatedAt: winner.updatedAt, ackedUpdatedAt: winner.updatedAt, superseded: JSON.stringify(lost) }, now);
}

/** Puts a mark in line with the record actually stored (its write failed or never happened). */
export function markReconciled(m: SyncMark, storedUpdatedAt: string, now: string): SyncMark {
  return settle({ ...m, localUpdatedAt: storedUpdatedAt }, now);
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

/**
 * Pending marks whose record holds another version, older than MARK_SETTLE_MS: a local write that
 * crashed between its mark and its record. Puts them in line with the stored record.
 */
export async function reconcileMarks(
  marks: SyncMarkCollection,
  storedUpdatedAt: (ids: string[]) => Promise<Map<string, string>>,
  nowMs = Date.now(),
): Promise<number> {
  // Runs before every sync: one read of the pending range, not one cursor step per mark.
  const pending = await readAll(marks, { selector: { state: 'pending' } });
  const local = new Map(pending.filter((m) => Date.parse(m.markedAt) < nowMs - MARK_SETTLE_MS).map((m) => [m.externalId, m.localUpdatedAt]));
  if (local.size === 0) return 0;
  const stored = await storedUpdatedAt([...local.keys()]);
  const stale = [...local.keys()].filter((id) => stored.get(id) !== local.get(id));
  // No record at all: its first write never happened, so the mark goes too.
  const missing = stale.filter((id) => !stored.has(id));
  if (missing.length > 0) await marks.bulkRemove(missing);
  const now = new Date(nowMs).toISOString();
  await updateMarks(
    marks,
    stale.filter((id) => stored.has(id)),
    (m, id) => (m && m.state === 'pending' && Date.parse(m.markedAt) < nowMs - MARK_SETTLE_MS ? markReconciled(m, stored.get(id)!, now) : m),
  );
  return stale.length;
}

export interface MarksSummary {
  pendingCount: number;
  oldestPendingAt: string | null;
  pending: SyncMark[];
  rejected: SyncMark[];
}

/** Pending and rejected marks, live. The index range 'pending'..'rejected' never reads synced marks. */
export function marksSummary$(marks: SyncMarkCollection): Observable<MarksSummary> {
  return marks.find({ selector: { state: { $in: ['pending', 'rejected'] } } }).$.pipe(
    map((docs) => {
      const pending: SyncMark[] = [];
      const rejected: SyncMark[] = [];
      let oldest: string | null = null;
      for (const d of docs) {
        const m = d.toJSON() as SyncMark;
        if (m.state === 'pending') {
          pending.push(m);
          const since = m.pendingSince ?? m.markedAt;
          if (oldest === null || since < oldest) oldest = since;
        } else rejected.push(m);
      }
      return { pendingCount: pending.length, oldestPendingAt: oldest, pending, rejected };
    }),
  );
}

/**
 * The exact number of pending records, live. An index count: IndexedDB counts the keys of the
 * 'pending' range without reading a mark, so the panel has its number at once with 100,000 pending.
 */
export function pendingCount$(marks: SyncMarkCollection): Observable<number> {
  return marks.count({ selector: { state: 'pending' } }).$;
}

/** The rejected marks, live (few: each waits for an edit). */
export function rejectedMarks$(marks: SyncMarkCollection): Observable<SyncMark[]> {
  return marks.find({ selector: { state: 'rejected' } }).$.pipe(map((docs) => docs.map((d) => d.toJSON() as SyncMark)));
}

/** The pending mark whose change is the oldest: the storage reads every pending mark to find it. */
async function findOldestPending(marks: SyncMarkCollection): Promise<{ id: string; at: string } | null> {
  const m = await marks.findOne({ selector: { state: 'pending' }, sort: [{ pendingSince: 'asc' }] }).exec();
  return m ? { id: m.externalId, at: m.pendingSince ?? m.markedAt } : null;
}

/**
 * When the oldest pending change was saved, live; null while nothing is pending or while not
 * known. pendingSince is optional, so it has no index and finding the oldest reads every pending
 * mark: that is done once the count has been still for `quietMs` (not batch by batch during a
 * sync), and again only when the mark found stops being pending, since a new change is never older.
 */
export function oldestPendingAt$(marks: SyncMarkCollection, quietMs = 1000): Observable<string | null> {
  return defer(() => {
    let known: { id: string; at: string } | null = null;
    const stillPending = async (k: { id: string; at: string }) => {
      const m = await marks.findOne(k.id).exec();
      return m !== null && m.state === 'pending' && (m.pendingSince ?? m.markedAt) === k.at;
    };
    return pendingCount$(marks).pipe(
      switchMap((n) => {
        if (n === 0) {
          known = null;
          return of(null);
        }
        const k = known;
        const search = timer(quietMs).pipe(
          switchMap(() => from(findOldestPending(marks))),
          map((found) => (known = found)?.at ?? null),
        );
        if (!k) return search;
        return from(stillPending(k)).pipe(switchMap((still) => (still ? of(k.at) : concat(of(null), search))));
      }),
      distinctUntilChanged(),
    );
  });
}
