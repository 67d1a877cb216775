/**
 * The sync state of the records a view shows: pending (after the push checkpoint), rejected (the
 * server refused the version the device still holds), or, absent from the map, synced.
 */
import { combineLatest, map, of, type Observable } from 'rxjs';
import type { DispenseDatabase } from '../db';
import { storedDocs$ } from '../index-read';
import { isAfter, pushCheckpoint$ } from './checkpoint';

export interface RecordSyncState {
  state: 'pending' | 'rejected';
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
      for (const { externalId: id, updatedAt, _meta } of held) {
        const mark = marks.get(id);
        if (isAfter(cp, _meta.lwt, id)) states.set(id, { state: 'pending' });
        else if (mark?.state === 'rejected' && mark.rejectedUpdatedAt === updatedAt) states.set(id, { state: 'rejected', reason: mark.reason });
      }
      return states;
    }),
  );
}
