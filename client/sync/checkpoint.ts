/**
 * The mirror of RxDB's push checkpoint, shared by every tab (docs/decisions/ack-by-checkpoint.md).
 * RxDB's push replication walks the records in the order of their last local write (`_meta.lwt`,
 * then id) and, once the server has answered a batch and RxDB has noted what it sent, stores a
 * checkpoint: the last (lwt, id) it pushed. A record after it is pending (pending.ts); one at or
 * before it was answered (confirmed, or refused and kept in a sync mark, marks.ts).
 *
 * The leader tab mirrors RxDB's checkpoint (kept in RxDB's replication meta) here, steps 5 and 6
 * of the run (run.ts); the mirror can lag RxDB's (the count is then too high), never lead it. It
 * is kept in localStorage, not in an RxDB local document: it is read at once when the page opens
 * (a local document took 80-200 ms more before the first count could start). Other tabs hear of
 * each new one on the tab channel (tabs.ts). If localStorage is lost, the mirror starts again
 * from none (all pending until the next run).
 */
import { defer, distinctUntilChanged, map, Observable, startWith } from 'rxjs';
import { isAfter, type ChangesCheckpoint } from '../data/rxdb';
import { lastCheckpointHeard, postToTabs, tabMessages$ } from './tabs';

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

function sameCheckpoint(a: PushCheckpoint | null, b: PushCheckpoint | null): boolean {
  return a === b || (a !== null && b !== null && a.lwt === b.lwt && a.id === b.id);
}

/**
 * The leader's mirror of RxDB's push checkpoint, kept for the next start and posted to every tab.
 * A notice of a new one only moves it forwards (notices can come out of order); `exact`, RxDB's
 * stored checkpoint as read, sets it as it is, backwards or to none too (RxDB's meta lost:
 * everything is pending again, as RxDB will push it).
 */
export function publishCheckpoint(db: Named, checkpoint: PushCheckpoint | null, exact = false): void {
  const known = storedCheckpoint(db.name);
  if (!exact && (!checkpoint || (known && !isAfter(known, checkpoint.lwt, checkpoint.id)))) return;
  if (exact && sameCheckpoint(known, checkpoint)) return;
  keepAndPost(db.name, checkpoint && { id: checkpoint.id, lwt: checkpoint.lwt });
}

/** The site's data removed from this browser: its mirror is gone, in every tab. */
export function forgetCheckpoint(dbName: string): void {
  keepAndPost(dbName, null);
}

function keepAndPost(dbName: string, checkpoint: PushCheckpoint | null): void {
  const key = checkpointKey(dbName);
  const value = checkpoint && JSON.stringify(checkpoint);
  try {
    if (!globalThis.localStorage) throw new Error('no localStorage');
    if (value) globalThis.localStorage.setItem(key, value);
    else globalThis.localStorage.removeItem(key);
  } catch {
    if (value) inMemory.set(key, value);
    else inMemory.delete(key);
  }
  postToTabs(dbName, { kind: 'checkpoint', checkpoint });
}

/**
 * The push checkpoint as every tab sees it, live: the last one the tab channel brought, or the
 * one kept when none came yet; null until a first batch was answered.
 */
export function pushCheckpoint$(db: Named): Observable<PushCheckpoint | null> {
  return defer(() => {
    const heard = lastCheckpointHeard(db.name);
    return tabMessages$(db.name, 'checkpoint').pipe(
      map((m) => m.checkpoint),
      startWith(heard ? heard.value : storedCheckpoint(db.name)),
    );
  }).pipe(distinctUntilChanged(sameCheckpoint));
}
