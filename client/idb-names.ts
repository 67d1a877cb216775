/**
 * How RxDB's Dexie storage lays a database out in IndexedDB: one IndexedDB database per
 * collection (and per internal store), named `rxdb-dexie-<database>--<schema version>--<collection>`.
 * RxDB's own remove() only empties them; a removed site's or the old build's database is deleted
 * here, so nothing of it is left and a first start can tell it never existed.
 */
import { dispenseRxJsonSchema } from '../schemas/rxdb-schema';

/** The IndexedDB database of the records of the app's database `dbName`. */
export function recordsIndexedDbName(dbName: string): string {
  return `rxdb-dexie-${dbName}--${dispenseRxJsonSchema().version}--dispenses`;
}

export function browserIndexedDb(): IDBFactory | undefined {
  return (globalThis as { indexedDB?: IDBFactory }).indexedDB;
}

/** Whether the records of `dbName` are in IndexedDB, found without creating anything. */
export function recordsExist(dbName: string, idb = browserIndexedDb()): Promise<boolean> {
  if (!idb) return Promise.resolve(false);
  return new Promise((resolve) => {
    let req: IDBOpenDBRequest;
    try {
      req = idb.open(recordsIndexedDbName(dbName));
    } catch {
      return resolve(false);
    }
    req.onupgradeneeded = () => req.transaction?.abort(); // absent: create nothing
    req.onerror = () => resolve(false);
    req.onblocked = () => resolve(true); // being upgraded or deleted elsewhere: it exists
    req.onsuccess = () => {
      req.result.close();
      resolve(true);
    };
  });
}

/**
 * Deletes every IndexedDB database of the app's database `dbName` (after RxDB has closed and
 * emptied it). A deletion blocked by a connection another tab still holds completes once that
 * tab lets go; it is not waited for.
 */
export async function deleteIndexedDbs(dbName: string, idb = browserIndexedDb()): Promise<void> {
  if (!idb) return;
  const prefix = `rxdb-dexie-${dbName}--`;
  const listed = typeof idb.databases === 'function' ? (await idb.databases()).map((d) => d.name ?? '') : null;
  // Where the browser cannot list its databases (Firefox before 126): the app's own, by name.
  const others = ['_rxdb_internal', 'syncmarks', 'plugin-local-documents-', 'plugin-local-documents-dispenses', 'plugin-local-documents-syncmarks'];
  const known = [recordsIndexedDbName(dbName), ...others.map((c) => `${prefix}0--${c}`)];
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
