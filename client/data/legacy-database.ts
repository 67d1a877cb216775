/**
 * The one database of the versions before site scoping ('sems-dispense'), which may hold records
 * of several sites. When a user of a site opens the site's database, that site's records move
 * over from it, with their refusal and conflict marks; the others stay for their own site. A moved
 * record is pending in the new database and is pushed once more: the server writes nothing for a
 * version it holds, so this costs a request, never a duplicate. Once nothing is left, the old
 * database is removed. Safe to repeat: a crash half way moves the rest next time.
 */
import type { Dispense } from '../../schemas/dispense';
import { openDispenseDatabase, type DispenseDatabase, type OpenOptions } from './db';
import { browserIndexedDb, deleteIndexedDbs, recordsIndexedDbExists } from './rxdb';
import type { SyncMark } from './marks';

export const LEGACY_DATABASE_NAME = 'sems-dispense';
/** localStorage keys of the old database's checkpoint mirror (now sync/checkpoint.ts) and of its sync settings. */
const LEGACY_KEY_PREFIXES = [`sems_push_checkpoint:${LEGACY_DATABASE_NAME}:`];

export interface AdoptOptions extends OpenOptions {
  /** Where to look for the old database (tests pass fake-indexeddb's). Default: the browser's. */
  indexedDB?: IDBFactory;
}

/** Marks worth keeping: a refusal of the old build's wrong-site push was the bug this change fixes. */
const keepMark = (m: SyncMark) => !(m.state === 'rejected' && m.code === 'wrong_site');

/**
 * Moves the records of `siteId` from the old database into `db`, the site's own. Returns how many
 * it moved (0 when there is no old database, at once).
 */
export async function adoptLegacyRecords(db: DispenseDatabase, siteId: string, opts: AdoptOptions = {}): Promise<number> {
  const idb = opts.indexedDB ?? browserIndexedDb();
  // At any schema version up to this build's (RxDB migrates an older one as it opens it).
  if (!(await recordsIndexedDbExists(LEGACY_DATABASE_NAME, idb))) return 0;
  const legacy = await openDispenseDatabase(LEGACY_DATABASE_NAME, opts);
  let empty = false;
  try {
    const docs = (await legacy.dispenses.find({ selector: { siteId } }).exec()).map((d) => d.toJSON() as Dispense);
    const ids = docs.map((d) => d.externalId);
    if (ids.length > 0) {
      const marks = [...(await legacy.syncmarks.findByIds(ids).exec()).values()].map((m) => m.toJSON() as SyncMark).filter(keepMark);
      // Already there (another tab moved it, or a crash came after the insert): left as it is.
      await insertMissing(db.dispenses.bulkInsert(docs), 'records');
      if (marks.length > 0) await insertMissing(db.syncmarks.bulkInsert(marks), 'sync marks');
      await legacy.syncmarks.bulkRemove(ids);
      await legacy.dispenses.bulkRemove(ids);
    }
    empty = (await legacy.dispenses.count().exec()) === 0;
    return ids.length;
  } finally {
    if (empty) {
      await legacy.remove();
      await deleteIndexedDbs(LEGACY_DATABASE_NAME, idb);
      forgetLegacyKeys();
    } else await legacy.close();
  }
}

async function insertMissing(write: Promise<{ error: { status: number; documentId: string }[] }>, what: string): Promise<void> {
  const { error } = await write;
  const failed = error.find((e) => e.status !== 409);
  if (failed) throw new Error(`Moving ${what} to the site's database failed (${failed.status}) for ${failed.documentId}`);
}

function forgetLegacyKeys(): void {
  try {
    const store = globalThis.localStorage;
    if (!store) return;
    const keys = Array.from({ length: store.length }, (_, i) => store.key(i)).filter((k): k is string => k !== null);
    for (const key of keys) if (LEGACY_KEY_PREFIXES.some((p) => key.startsWith(p))) store.removeItem(key);
  } catch {
    // no localStorage: nothing kept there
  }
}
