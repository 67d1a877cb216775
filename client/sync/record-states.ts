/**
 * The sync state of the records a view shows: pending (after the push checkpoint), rejected (the
 * server refused the version the device still holds), or, absent from the map, synced; and
 * whether the device keeps a version of it that lost to the server's.
 */
import { combineLatest, map, of, type Observable } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { storedAfter, storedDocs$ } from '../data/rxdb';
import { pushCheckpoint$ } from './checkpoint';
import { isRefusedVersion } from '../data/marks';

export interface RecordSyncState {
  /** 'synced' only for a record with a kept version (below); a synced record is otherwise absent from the map. */
  state: 'pending' | 'rejected' | 'synced';
  /** This device keeps a version of the record that lost to the server's (kept.ts), shown in its History. */
  kept?: boolean;
  reason?: string;
}

/**
 * The sync state of the given records only (the page the list shows), live. Pending is read from
 * each record's place in the push order; rejected from its mark, while the record still holds the
 * refused version.
 */
export function recordSyncStatesOf$(db: DispenseDatabase, ids: string[]): Observable<Map<string, RecordSyncState>> {
  if (ids.length === 0) return of(new Map());
  return combineLatest([pushCheckpoint$(db), storedDocs$(db.dispenses, ids), db.syncmarks.findByIds(ids).$]).pipe(
    map(([cp, held, marks]) => {
      const states = new Map<string, RecordSyncState>();
      for (const doc of held) {
        const { externalId: id, updatedAt } = doc;
        const mark = marks.get(id);
        let state: RecordSyncState | null = null;
        if (storedAfter(cp, doc, id)) state = { state: 'pending' };
        else if (isRefusedVersion(mark, { updatedAt })) state = { state: 'rejected', reason: mark?.reason };
        if (mark?.superseded) state = { ...(state ?? { state: 'synced' }), kept: true };
        if (state) states.set(id, state);
      }
      return states;
    }),
  );
}
