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
 * mirrors RxDB's checkpoint (kept in RxDB's replication meta) for every tab; the mirror can lag
 * RxDB's checkpoint (the count is then too high), never lead it. The mirror is in localStorage,
 * not in an RxDB local document: it is read at once when the page opens (an RxDB local document
 * took 80-200 ms more before the first count could start), and other tabs hear of each write by
 * the `storage` event. If localStorage is lost, the mirror starts again from none (all pending
 * until the next run); if IndexedDB is lost, records written later are still after the mirror.
 */
import { combineLatest, debounceTime, distinctUntilChanged, EMPTY, filter, from, fromEvent, map, merge, Observable, shareReplay, startWith, Subject, switchMap } from 'rxjs';
import type { DispenseDatabase } from '../db';
import { REPLICATION_ID } from './replication';
import { DEXIE_DOCS_TABLE_NAME } from 'rxdb/plugins/storage-dexie';
import { recordsIndexedDbName } from '../idb-names';
import { changesIndexName, countAfter, firstAfter, rangeAfter, type ChangesCheckpoint } from '../index-read';

export type PushCheckpoint = ChangesCheckpoint;

/** Per database and replication: a new replication (another REPLICATION_ID) starts from none. */
export const checkpointKey = (dbName: string) => `sems_push_checkpoint:${dbName}:${REPLICATION_ID}`;

/** Where localStorage is unavailable (a browser that refuses it): this page's memory. */
const inMemory = new Map<string, string>();
/** Databases whose mirror this tab wrote (the `storage` event reaches only the other tabs). */
const writtenHere = new Subject<string>();

function readStored(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? inMemory.get(key) ?? null;
  } catch {
    return inMemory.get(key) ?? null;
  }
}

/** The mirrored checkpoint of the database named `dbName`, as stored now. */
export function storedCheckpoint(dbName: string): PushCheckpoint | null {
  try {
    const v = JSON.parse(readStored(checkpointKey(dbName)) ?? 'null') as Partial<PushCheckpoint> | null;
    return v && typeof v.id === 'string' && typeof v.lwt === 'number' ? { id: v.id, lwt: v.lwt } : null;
  } catch {
    return null;
  }
}

/** Is the record at (lwt, id) after the checkpoint, i.e. not yet answered by the server? */
export function isAfter(checkpoint: PushCheckpoint | null, lwt: number, id: string): boolean {
  if (!checkpoint) return true;
  return lwt > checkpoint.lwt || (lwt === checkpoint.lwt && id > checkpoint.id);
}

function sameCheckpoint(a: PushCheckpoint | null, b: PushCheckpoint | null): boolean {
  return a === b || (a !== null && b !== null && a.lwt === b.lwt && a.id === b.id);
}

/**
 * The leader's mirror of RxDB's push checkpoint. A notice of a new one only moves it forwards
 * (notices can come out of order); `exact`, RxDB's stored checkpoint as read, sets it as it is,
 * backwards or to none too (RxDB's meta lost: everything is pending again, as RxDB will push it).
 */
export function publishCheckpoint(db: DispenseDatabase, checkpoint: PushCheckpoint | null, exact = false): void {
  const known = storedCheckpoint(db.name);
  if (!exact && (!checkpoint || (known && !isAfter(known, checkpoint.lwt, checkpoint.id)))) return;
  if (exact && sameCheckpoint(known, checkpoint)) return;
  const key = checkpointKey(db.name);
  const value = checkpoint && JSON.stringify({ id: checkpoint.id, lwt: checkpoint.lwt });
  try {
    if (!globalThis.localStorage) throw new Error('no localStorage');
    if (value) globalThis.localStorage.setItem(key, value);
    else globalThis.localStorage.removeItem(key);
  } catch {
    if (value) inMemory.set(key, value);
    else inMemory.delete(key);
  }
  writtenHere.next(db.name);
}

/** The push checkpoint as every tab sees it, live; null until a first batch was answered. */
export function pushCheckpoint$(db: DispenseDatabase): Observable<PushCheckpoint | null> {
  const key = checkpointKey(db.name);
  const otherTabs$: Observable<unknown> =
    typeof window !== 'undefined' && typeof window.addEventListener === 'function'
      ? fromEvent<StorageEvent>(window, 'storage').pipe(filter((e) => e.key === key || e.key === null))
      : EMPTY;
  return merge(writtenHere.pipe(filter((name) => name === db.name)), otherTabs$).pipe(
    startWith(null),
    map(() => storedCheckpoint(db.name)),
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
 * database as RxDB's Dexie storage lays it out (one database per collection, its documents in
 * DEXIE_DOCS_TABLE_NAME with the `_meta.lwt` + id index), the index counted after the mirrored checkpoint, then
 * closed. It never creates or upgrades anything: where the database does not exist yet (a first
 * start) or the layout differs (another RxDB version), it gives null and the live count, which
 * follows in any case, is the first.
 */
export function countBeforeOpen(dbName: string): Promise<number | null> {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  const KeyRange = (globalThis as { IDBKeyRange?: typeof IDBKeyRange }).IDBKeyRange;
  if (!idb || !KeyRange) return Promise.resolve(null);
  const cp = storedCheckpoint(dbName);
  return new Promise((resolve) => {
    let req: IDBOpenDBRequest;
    try {
      req = idb.open(recordsIndexedDbName(dbName));
    } catch {
      return resolve(null);
    }
    // No such database: do not create one (RxDB will, with its own layout).
    req.onupgradeneeded = () => req.transaction?.abort();
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
    req.onsuccess = () => {
      const conn = req.result;
      try {
        const index = conn.transaction(DEXIE_DOCS_TABLE_NAME, 'readonly').objectStore(DEXIE_DOCS_TABLE_NAME).index(changesIndexName('externalId'));
        const counted = index.count(rangeAfter(KeyRange, cp));
        counted.onsuccess = () => resolve(counted.result);
        counted.onerror = () => resolve(null);
      } catch {
        resolve(null);
      } finally {
        conn.close(); // takes effect once the count's transaction is done
      }
    };
  });
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
