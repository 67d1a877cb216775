/**
 * A pulled version never takes a record on this device back to an older one. A pull page is read
 * on the server, then written here by RxDB a moment later; a version this device pushed in that
 * moment (which RxDB then notes as the server's) would otherwise be overwritten by the page's
 * older one, because RxDB takes a pulled state as the newest. The device then showed a record's
 * first version while the server held its edit, until the record changed again (seen
 * under load in fault scenario 2). The check runs in the storage's write itself, against the
 * stored document the write replaces, so no write can slip between the check and the write.
 *
 * "Older" is the one conflict rule (conflict.ts): the server's versions of a record only move
 * forward by it, so a pulled version the rule ranks below the stored one is never the server's
 * latest, and the latest comes in a later page. A local change not yet pushed is left alone by
 * RxDB in any case; it meets the server's version by the rule when it is pushed.
 */
import type { Dispense } from '../../schemas/dispense';
import { checkPullWrites, type AnyRxStorage } from './rxdb';
import { conflictWinner } from './conflict';

/** The pulled version is behind the stored one by the conflict rule (an equal one is not). */
export function pulledIsStale(stored: Dispense, pulled: Dispense): boolean {
  return conflictWinner(stored, pulled) === 'local';
}

/** `storage` with RxDB's pull refused any write of a stale version to `dispenses`. */
export function withStalePullsRefused<S extends AnyRxStorage>(storage: S): S {
  return {
    ...storage,
    async createStorageInstance(params) {
      const instance = await storage.createStorageInstance(params);
      if (params.collectionName !== 'dispenses') return instance;
      return checkPullWrites(instance, (stored, pulled) => pulledIsStale(stored as unknown as Dispense, pulled as unknown as Dispense));
    },
  } as S;
}
