/**
 * The IndexedDB layout of RxDB's Dexie storage, for use before RxDB has opened a database or
 * after it has removed one: the name of each IndexedDB database (Dexie keeps each collection, and
 * each of RxDB's internal stores, in one of its own: 'rxdb-dexie-<db>--<schema version>--<collection>'),
 * the name of the documents' object store (DEXIE_DOCS_TABLE_NAME of RxDB's Dexie plugin) and of
 * the `_meta.lwt` + primary key index RxDB pushes in (dexieReplaceIfStartsWithPipe). Opening a
 * records database checks that it holds the documents' store.
 */
import { DEXIE_DOCS_TABLE_NAME, dexieReplaceIfStartsWithPipe } from 'rxdb/plugins/storage-dexie';
import { dispenseRxJsonSchema } from '../../../schemas/rxdb-schema';
import { RxdbInternalsChanged } from './assumptions';

/** Dexie keeps each collection (and each internal store) in an IndexedDB database of its own. */
const dexieDbPrefix = (dbName: string) => `rxdb-dexie-${dbName}--`;

/** The IndexedDB database of the records of the app's database `dbName`, at a schema version (this build's by default). */
export function recordsIndexedDbName(dbName: string, version = dispenseRxJsonSchema().version): string {
  return `${dexieDbPrefix(dbName)}${version}--dispenses`;
}

/** The object store of a collection's documents in its IndexedDB database. */
export const DOCS_STORE = DEXIE_DOCS_TABLE_NAME;

/** The `_meta.lwt` + primary key index every collection has: the order RxDB pushes in. */
export function changesIndexName(primary: string): string {
  return `[_meta.lwt+${dexieReplaceIfStartsWithPipe(primary)}]`;
}

export function browserIndexedDb(): IDBFactory | undefined {
  return (globalThis as { indexedDB?: IDBFactory }).indexedDB;
}

/**
 * Deletes every IndexedDB database of the app's database `dbName` (after RxDB closed and emptied
 * it: RxDB's remove() leaves them empty). A deletion blocked by another tab's connection completes
 * once that tab lets go; it is not waited for.
 */
export async function deleteIndexedDbs(dbName: string, idb = browserIndexedDb()): Promise<void> {
  if (!idb) return;
  const prefix = dexieDbPrefix(dbName);
  const listed = typeof idb.databases === 'function' ? (await idb.databases()).map((d) => d.name ?? '') : null;
  // Where the browser cannot list its databases (Firefox before 126): the app's own, by name.
  const others = ['_rxdb_internal', 'plugin-local-documents-', 'plugin-local-documents-dispenses', 'plugin-local-documents-syncmarks'];
  const versions = (n: number) => Array.from({ length: n + 1 }, (_, v) => v);
  const known = [
    ...versions(dispenseRxJsonSchema().version).map((v) => recordsIndexedDbName(dbName, v)),
    ...versions(1).map((v) => `${prefix}${v}--syncmarks`), // syncMarkSchema's versions (data/marks.ts)
    ...others.map((c) => `${prefix}0--${c}`),
  ];
  const names = (listed ?? known).filter((n) => n.startsWith(prefix));
  await Promise.all(
    names.map(
      (name) =>
        new Promise<void>((resolve) => {
          const req = idb.deleteDatabase(name);
          req.onsuccess = req.onerror = req.onblocked = () => resolve();
        }),
    ),
  );
}

/**
 * Opens the IndexedDB database of the records of `dbName` on a connection of its own, if it
 * exists, without creating or upgrading anything; null where it does not exist yet (a first start).
 */
export function openRecordsIndexedDb(dbName: string, idb = browserIndexedDb(), version?: number): Promise<IDBDatabase | null> {
  if (!idb) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    let req: IDBOpenDBRequest;
    try {
      req = idb.open(recordsIndexedDbName(dbName, version));
    } catch {
      return resolve(null);
    }
    req.onupgradeneeded = () => req.transaction?.abort(); // absent: create nothing (RxDB will, its own way)
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
    req.onsuccess = () => {
      const conn = req.result;
      if (conn.objectStoreNames.contains(DOCS_STORE)) return resolve(conn);
      conn.close();
      reject(new RxdbInternalsChanged(`the records' IndexedDB database has no '${DOCS_STORE}' store`));
    };
  });
}

/** Does the records' IndexedDB database of `dbName` exist, at any schema version up to this build's? Creates nothing. */
export async function recordsIndexedDbExists(dbName: string, idb = browserIndexedDb()): Promise<boolean> {
  for (let version = dispenseRxJsonSchema().version; version >= 0; version--) {
    const found = await openRecordsIndexedDb(dbName, idb, version);
    if (found) {
      found.close();
      return true;
    }
  }
  return false;
}
