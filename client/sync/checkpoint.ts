/**
 * The mirror of RxDB's push checkpoint, shared by every tab (docs/decisions/ack-by-checkpoint.md).
 * RxDB's push replication walks the records in the order of their last local write (`_meta.lwt`,
 * then id) and, once the server has answered a batch and RxDB has noted what it sent, stores a
 * checkpoint: the last (lwt, id) it pushed. A record after it is pending (pending.ts); one at or
 * before it was answered (confirmed, or refused and kept in a sync mark, marks.ts).
 *
 * The leader tab mirrors RxDB's checkpoint (kept in RxDB's replication meta) here; the mirror can
 * lag RxDB's (the count is then too high), never lead it. It is in localStorage, not in an RxDB
 * local document: it is read at once when the page opens (a local document took 80-200 ms more
 * before the first count could start), and other tabs hear of each write by the `storage` event.
 * If localStorage is lost, the mirror starts again from none (all pending until the next run).
 */
import { distinctUntilChanged, EMPTY, filter, fromEvent, map, merge, Observable, startWith, Subject } from 'rxjs';
import type { ChangesCheckpoint } from '../data/rxdb';

export type PushCheckpoint = ChangesCheckpoint;

/** The push replication's id: its checkpoint (RxDB's meta) and the mirror's key are per replication. */
export const REPLICATION_ID = 'sems-dispenses-push-v1';

/** Per database and replication: a new replication (another REPLICATION_ID) starts from none. */
export const checkpointKey = (dbName: string) => `sems_push_checkpoint:${dbName}:${REPLICATION_ID}`;

/** A database, as far as the mirror needs one. */
interface Named {
  name: string;
}

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
export function publishCheckpoint(db: Named, checkpoint: PushCheckpoint | null, exact = false): void {
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
export function pushCheckpoint$(db: Named): Observable<PushCheckpoint | null> {
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
