/**
 * Reads of a collection's documents straight from the IndexedDB store of RxDB's Dexie storage,
 * in one read-only transaction. It leans on the Dexie storage instance's `internals` (a promise
 * of dexieDb, dexieTable and booleanIndexes), on Dexie keeping the IDBKeyRange it was made with
 * in `_options` and exposing a transaction's IndexedDB transaction as `idbtrans`, and on the
 * Dexie plugin's own helpers for a query plan's key range (getKeyRangeByQueryPlan) and for a
 * stored value as document data (fromDexieToStorage). Each is checked before use.
 */
import type { DexieStorageInternals, MangoQuery, RxCollection, RxDocumentData, RxQueryPlan } from 'rxdb';
import { dexieReplaceIfStartsWithPipe, fromDexieToStorage, getKeyRangeByQueryPlan } from 'rxdb/plugins/storage-dexie';
import { assume, isDexieStorage } from './assumptions';
import { DOCS_STORE } from './names';

export type KeyRangeClass = typeof IDBKeyRange;
type DexieState = Awaited<DexieStorageInternals>;

/** What a read gets, inside one read-only IndexedDB transaction on a collection's documents. */
export interface DexieRead {
  store: IDBObjectStore;
  KeyRange: KeyRangeClass;
  /** The IndexedDB key range of one of RxDB's query plans. */
  rangeOf(plan: RxQueryPlan): IDBKeyRange;
  /** A stored value as RxDB's document data (booleans in indexes are stored as strings). */
  toDocument<T>(stored: unknown): RxDocumentData<T>;
}

/** A Dexie storage instance's documents, read in one read-only transaction. */
export interface DexieDocs {
  read<R>(read: (r: DexieRead) => Promise<R>): Promise<R>;
}

function docsOf(internals: Promise<DexieState>): DexieDocs {
  assume(internals && typeof internals.then === 'function', 'a Dexie storage instance has `internals`, a promise');
  return {
    async read(read) {
      const s = await internals;
      assume(s?.dexieDb && s.dexieTable && Array.isArray(s.booleanIndexes), 'Dexie internals hold dexieDb, dexieTable and booleanIndexes');
      const KeyRange = (s.dexieDb as unknown as { _options?: { IDBKeyRange?: KeyRangeClass } })._options?.IDBKeyRange ?? globalThis.IDBKeyRange;
      assume(typeof KeyRange?.bound === 'function', "Dexie's options hold the IDBKeyRange it was made with");
      let result: unknown;
      await s.dexieDb.transaction('r', s.dexieTable, async (tx) => {
        const idb = (tx as unknown as { idbtrans?: IDBTransaction }).idbtrans;
        assume(idb && typeof idb.objectStore === 'function', "a Dexie transaction exposes its IndexedDB transaction as 'idbtrans'");
        result = await read({
          store: idb.objectStore(DOCS_STORE),
          KeyRange,
          rangeOf: (plan) => getKeyRangeByQueryPlan(s.booleanIndexes, plan, KeyRange) as IDBKeyRange,
          toDocument: <T>(stored: unknown) => fromDexieToStorage<T>(s.booleanIndexes, stored),
        });
      });
      return result as never;
    },
  };
}

const byInstance = new WeakMap<object, DexieDocs>();

/** The documents of a Dexie storage instance (or of one of RxDB's wrappers of it, which share its `internals`). */
export function docsOfInstance(instance: object): DexieDocs {
  let docs = byInstance.get(instance);
  if (!docs) {
    docs = docsOf((instance as { internals: Promise<DexieState> }).internals);
    byInstance.set(instance, docs);
  }
  return docs;
}

/** The Dexie storage of `collection`, or null on another storage. */
export function dexieDocsOf<T>(collection: RxCollection<T>): DexieDocs | null {
  if (!isDexieStorage(collection.database.storage)) return null;
  return docsOfInstance(collection.storageInstance);
}

/**
 * RxDB's own plan for `query` (the index and key range it would walk forwards, and whether the
 * index serves the selector and the sort whole), and the IndexedDB index name of that plan.
 */
export function queryPlanOf<T>(collection: RxCollection<T>, query: MangoQuery<T>): { plan: RxQueryPlan; indexName: string } {
  const plan = collection.find(query).getPreparedQuery().queryPlan;
  assume(
    Array.isArray(plan?.index) && typeof plan.sortSatisfiedByIndex === 'boolean',
    'a prepared query has a queryPlan with index and sortSatisfiedByIndex',
  );
  return { plan, indexName: `[${plan.index.map(dexieReplaceIfStartsWithPipe).join('+')}]` };
}

/** The index of `store` named `name`, which RxDB's Dexie storage is assumed to have made. */
export function indexOf(store: IDBObjectStore, name: string): IDBIndex {
  assume(store.indexNames.contains(name), `the documents' store has the index ${name}`);
  return store.index(name);
}

/** An IndexedDB request's result. */
export function request<R>(req: IDBRequest<R>): Promise<R> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
