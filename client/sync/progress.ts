/**
 * What the server has confirmed, acknowledged by range. RxDB's push replication walks the records
 * in the order of their last local write (`_meta.lwt`, then id) and, once the server has answered
 * a batch and RxDB has noted what it sent, stores a checkpoint: the last (lwt, id) it pushed. A
 * record after the checkpoint is pending; one at or before it was answered (confirmed, or refused
 * and then kept in a sync mark, sync/marks.ts). So acknowledging a batch costs RxDB's one
 * checkpoint write, not a write per record, and the pending count is an IndexedDB count of the
 * index range after the checkpoint, read without reading a record.
 *
 * Never too low: a local write gets a new lwt in the same write as the record, so it is after the
 * checkpoint at once, and the checkpoint moves only after the server answered. The leader tab
 * mirrors RxDB's checkpoint (kept in RxDB's replication meta) into a local document that every tab
 * reads; the mirror can lag RxDB's checkpoint (the count is then too high), never lead it.
 */
import { combineLatest, debounceTime, Observable, distinctUntilChanged, from, map, startWith, switchMap } from 'rxjs';
import type { DispenseDatabase } from '../db';
import { countAfter, firstAfter, idsAfter, idsUpTo, type ChangesCheckpoint } from '../index-read';

export type PushCheckpoint = ChangesCheckpoint;

export const CHECKPOINT_DOC = 'sync-checkpoint';

/** Is the record at (lwt, id) after the checkpoint, i.e. not yet answered by the server? */
export function isAfter(checkpoint: PushCheckpoint | null, lwt: number, id: string): boolean {
  if (!checkpoint) return true;
  return lwt > checkpoint.lwt || (lwt === checkpoint.lwt && id > checkpoint.id);
}

function sameCheckpoint(a: PushCheckpoint | null, b: PushCheckpoint | null): boolean {
  return a === b || (a !== null && b !== null && a.lwt === b.lwt && a.id === b.id);
}

/** The leader's mirror of RxDB's push checkpoint, written only forwards. */
export async function publishCheckpoint(db: DispenseDatabase, checkpoint: PushCheckpoint): Promise<void> {
  if (db.closed) return;
  const current = await db.getLocal<PushCheckpoint>(CHECKPOINT_DOC);
  const known = current ? (current.toJSON().data as PushCheckpoint) : null;
  if (known && !isAfter(known, checkpoint.lwt, checkpoint.id)) return;
  await db.upsertLocal<PushCheckpoint>(CHECKPOINT_DOC, { id: checkpoint.id, lwt: checkpoint.lwt });
}

/** The push checkpoint as every tab sees it, live; null until a first batch was answered. */
export function pushCheckpoint$(db: DispenseDatabase): Observable<PushCheckpoint | null> {
  return db.getLocal$<PushCheckpoint>(CHECKPOINT_DOC).pipe(
    map((doc) => (doc ? ({ id: doc.get('id'), lwt: doc.get('lwt') } as PushCheckpoint) : null)),
    distinctUntilChanged(sameCheckpoint),
  );
}

/** Each time the records or the checkpoint change: the checkpoint (records written meanwhile in any tab included). */
function onChange$(db: DispenseDatabase): Observable<PushCheckpoint | null> {
  return combineLatest([pushCheckpoint$(db), db.dispenses.eventBulks$.pipe(startWith(null))]).pipe(map(([cp]) => cp));
}

/**
 * `work` for each value, one at a time: values that come while it runs are folded into one more
 * run with the latest, after it. Not switchMap (a steady stream of writes would cancel every count
 * and show none) and not concatMap (a count per write, queued behind one another).
 */
export function runLatest<T, R>(work: (value: T) => Promise<R>) {
  return (source: Observable<T>) =>
    new Observable<R>((subscriber) => {
      let running = false;
      let queued: { value: T } | null = null;
      let closed = false;
      const go = (value: T) => {
        running = true;
        work(value)
          .then((r) => !closed && subscriber.next(r))
          // A read that fails (the database closing under it) is skipped; the next change reads again.
          .catch(() => {})
          .finally(() => {
            running = false;
            const next = queued;
            queued = null;
            if (next && !closed) go(next.value);
          });
      };
      const sub = source.subscribe({
        next: (value) => (running ? (queued = { value }) : go(value)),
        error: (err) => subscriber.error(err),
      });
      return () => {
        closed = true;
        sub.unsubscribe();
      };
    });
}

/** The exact number of pending records, live: an index count, again after each change. */
export function pendingCount$(db: DispenseDatabase): Observable<number> {
  return onChange$(db).pipe(
    runLatest((cp) => countAfter(db.dispenses, cp)),
    distinctUntilChanged(),
  );
}

/**
 * When the oldest pending record was saved on this device (its last local write), live; null
 * while nothing is pending. Read after the changes settle for `quietMs`, not batch by batch.
 */
export function oldestPendingAt$(db: DispenseDatabase, quietMs = 500): Observable<string | null> {
  return onChange$(db).pipe(
    debounceTime(quietMs),
    switchMap((cp) => from(firstAfter(db.dispenses, cp))),
    map((first) => (first ? new Date(Math.floor(first.lwt)).toISOString() : null)),
    distinctUntilChanged(),
  );
}

async function storedCheckpoint(db: DispenseDatabase): Promise<PushCheckpoint | null> {
  const doc = await db.getLocal<PushCheckpoint>(CHECKPOINT_DOC);
  return doc ? (doc.toJSON().data as PushCheckpoint) : null;
}

/** The ids of the records the server has answered (confirmed, or refused: see the marks). */
export async function answeredIds(db: DispenseDatabase): Promise<string[]> {
  return idsUpTo(db.dispenses, await storedCheckpoint(db));
}

/** The ids of the pending records, in push order. */
export async function pendingIds(db: DispenseDatabase): Promise<string[]> {
  return idsAfter(db.dispenses, await storedCheckpoint(db));
}
