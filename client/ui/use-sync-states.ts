/**
 * The sync state of the records a view shows (pending, rejected, or synced), read for exactly
 * those rows: until it has been read for them, null, so nothing is called synced too early.
 */
import { useMemo } from 'react';
import { map } from 'rxjs';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseDatabase } from '../data/db';
import { recordSyncStatesOf$, type RecordSyncState } from '../sync';
import { useObservable } from './use-observable';

export function useSyncStates(db: DispenseDatabase | null, shown: Dispense[]): Map<string, RecordSyncState> | null {
  const shownIds = shown.map((d) => d.externalId).join(',');
  const states$ = useMemo(
    () => (db ? recordSyncStatesOf$(db, shownIds ? shownIds.split(',') : []).pipe(map((states) => ({ ids: shownIds, states }))) : null),
    [db, shownIds],
  );
  const statesOf = useObservable<{ ids: string; states: Map<string, RecordSyncState> } | null>(states$, null);
  return statesOf?.ids === shownIds ? statesOf.states : null;
}
