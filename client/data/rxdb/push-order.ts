/**
 * The order RxDB pushes records in, read from the Dexie storage's `_meta.lwt` + primary key index
 * (names.ts): how many records are after a push checkpoint, which ones, which is first. RxDB's
 * public API has no count or key-only read of that index; here each is one IndexedDB request, no
 * record read. It leans on dexie-read.ts (the documents' store inside RxDB) and names.ts (the
 * same store before RxDB has opened), and on RxDB's getChangedDocumentsSince for the first change.
 * test/client/records.test.ts holds these reads against RxDB's own.
 */
import { getChangedDocumentsSince, type RxCollection } from 'rxdb';
import { dexieDocsOf, indexOf, request, type KeyRangeClass } from './dexie-read';
import { changesIndexName, DOCS_STORE, openRecordsIndexedDb } from './names';

/** A position in the order RxDB pushes records in: last local write time, then primary key. */
export interface ChangesCheckpoint {
  id: string;
  lwt: number;
}

/** Is the record at (lwt, id) after the checkpoint, i.e. not yet answered by the server? */
export function isAfter(checkpoint: ChangesCheckpoint | null, lwt: number, id: string): boolean {
  if (!checkpoint) return true;
  return lwt > checkpoint.lwt || (lwt === checkpoint.lwt && id > checkpoint.id);
}

/** Is a stored document (as RxDB hands it, with its `_meta`) after the checkpoint in push order? */
export const storedAfter = (checkpoint: ChangesCheckpoint | null, doc: { _meta: { lwt: number } }, id: string): boolean =>
  isAfter(checkpoint, doc._meta.lwt, id);

/** Every key of the changes index after `checkpoint` (all of them without one). The upper bound, [Infinity, []], is past any key: an array sorts after every string. */
export function rangeAfter(KeyRange: KeyRangeClass, checkpoint: ChangesCheckpoint | null): IDBKeyRange {
  return checkpoint ? KeyRange.bound([checkpoint.lwt, checkpoint.id], [Infinity, []], true, false) : KeyRange.lowerBound([-Infinity, ''], false);
}

/** The collection's index of changes (the push order), read in one transaction; the app always opens the Dexie storage (db.ts). */
async function readChanges<T, R>(collection: RxCollection<T>, read: (index: IDBIndex, KeyRange: KeyRangeClass) => Promise<R>): Promise<R> {
  const docs = dexieDocsOf(collection);
  if (!docs) throw new Error(`The push order is read from the Dexie storage, not ${collection.database.storage.name}`);
  const name = changesIndexName(collection.schema.primaryPath as string);
  return docs.read((r) => read(indexOf(r.store, name), r.KeyRange));
}

/** How many records were written after `checkpoint`: an index count, no record is read. */
export function countAfter<T>(collection: RxCollection<T>, checkpoint: ChangesCheckpoint | null): Promise<number> {
  return readChanges(collection, (index, KeyRange) => request(index.count(rangeAfter(KeyRange, checkpoint))));
}

/** The position of the first record written after `checkpoint`, or null: RxDB's own read of the next change. */
export async function firstAfter<T>(collection: RxCollection<T>, checkpoint: ChangesCheckpoint | null): Promise<ChangesCheckpoint | null> {
  const { documents } = await getChangedDocumentsSince(collection.storageInstance, 1, checkpoint ?? undefined);
  const first = documents[0];
  return first ? { id: first[collection.schema.primaryPath] as string, lwt: first._meta.lwt } : null;
}

/** The primary keys of the records written after `checkpoint` (all without one), in push order. */
export function idsAfter<T>(collection: RxCollection<T>, checkpoint: ChangesCheckpoint | null): Promise<string[]> {
  return readChanges(collection, async (index, KeyRange) => (await request(index.getAllKeys(rangeAfter(KeyRange, checkpoint)))) as string[]);
}

/** The primary keys of the records written up to `checkpoint` (none without one), in push order. */
export async function idsUpTo<T>(collection: RxCollection<T>, checkpoint: ChangesCheckpoint | null): Promise<string[]> {
  if (!checkpoint) return [];
  return readChanges(
    collection,
    async (index, KeyRange) => (await request(index.getAllKeys(KeyRange.upperBound([checkpoint.lwt, checkpoint.id], false)))) as string[],
  );
}

/**
 * How many records of the app's database `dbName` were written after `checkpoint()` (read once
 * the database is open), read while RxDB is still opening it: a connection of its own to the
 * records' IndexedDB database, the changes index counted, then closed. It never creates or
 * upgrades anything: null where the database does not exist yet (a first start), where this
 * runtime has no IDBKeyRange, or where the count fails.
 */
export async function countAfterBeforeOpen(dbName: string, checkpoint: () => ChangesCheckpoint | null): Promise<number | null> {
  const KeyRange = (globalThis as { IDBKeyRange?: KeyRangeClass }).IDBKeyRange;
  const conn = KeyRange ? await openRecordsIndexedDb(dbName) : null;
  if (!conn || !KeyRange) return null;
  const cp = checkpoint();
  try {
    // 'externalId': the records' primary key (schemas/rxdb-schema.ts).
    const index = indexOf(conn.transaction(DOCS_STORE, 'readonly').objectStore(DOCS_STORE), changesIndexName('externalId'));
    return await new Promise<number | null>((resolve) => {
      const counted = index.count(rangeAfter(KeyRange, cp));
      counted.onsuccess = () => resolve(counted.result);
      counted.onerror = () => resolve(null);
    });
  } finally {
    conn.close(); // takes effect once the count's transaction is done
  }
}
