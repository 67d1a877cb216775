/**
 * What is pending on this device: the records after the push checkpoint (checkpoint.ts) in push
 * order, counted in the changes index without reading a record (docs/decisions/early-count.md).
 * Never too low: a local write gets a new lwt in the same write as the record, so it is after the
 * checkpoint at once, and the checkpoint moves only after the server answered. If IndexedDB is
 * lost, records written later are still after the mirror.
 */
import { combineLatest, debounceTime, distinctUntilChanged, from, map, Observable, shareReplay, startWith, switchMap } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { countAfter, countAfterBeforeOpen, firstAfter } from '../data/rxdb';
import { runLatest } from '../data/run-latest';
import { pushCheckpoint$, storedCheckpoint, type PushCheckpoint } from './checkpoint';

/** Each time the records or the checkpoint change: the checkpoint (records written meanwhile in any tab included). */
function onChange$(db: DispenseDatabase): Observable<PushCheckpoint | null> {
  return combineLatest([pushCheckpoint$(db), db.dispenses.eventBulks$.pipe(startWith(null))]).pipe(map(([cp]) => cp));
}

const counts = new WeakMap<DispenseDatabase, Observable<number>>();

/**
 * The exact number of pending records, live: an index count, again after each change. One count
 * per database in a tab, shared: started when the database opens (warmUp), it is there when the
 * panel asks for it.
 */
export function pendingCount$(db: DispenseDatabase): Observable<number> {
  let count$ = counts.get(db);
  if (!count$) {
    count$ = onChange$(db).pipe(
      runLatest((cp) => countAfter(db.dispenses, cp)),
      distinctUntilChanged(),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
    counts.set(db, count$);
  }
  return count$;
}

/**
 * The exact pending count of the app's database while RxDB is still opening it (RxDB opens five
 * IndexedDB databases first, 100-300 ms): a connection of its own to the records' IndexedDB
 * database (data/rxdb/push-order.ts), the changes index counted after the mirrored checkpoint, then
 * closed. It never creates or upgrades anything: where the database does not exist yet (a first
 * start) it gives null and the live count, which follows in any case, is the first.
 */
export function countBeforeOpen(dbName: string): Promise<number | null> {
  return countAfterBeforeOpen(dbName, () => storedCheckpoint(dbName));
}

/** Starts the pending count as the database opens, before any view asks for it; held while the database is open. */
export function warmUp(db: DispenseDatabase): void {
  const sub = pendingCount$(db).subscribe();
  db.onClose.push(() => sub.unsubscribe());
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
