/**
 * Reads of an index range straight from IndexedDB, where RxDB's Dexie storage is slow: it walks
 * an index forwards only, one cursor step (a round trip to the browser's storage) per document.
 * So a query sorted `desc` reads and sorts every record (with 100,000 records the list's first
 * page took 8-12 s in Chromium), and a large result arrives one document per step (20,000
 * pending marks: 1.6 s before each sync). Here the same index and key range, from RxDB's own
 * query plan, are read in one request: getAll, or getAllRecords backwards where the browser has
 * it (a reverse cursor elsewhere).
 */
import { concat, defer, filter, from, map, switchMap, type Observable } from 'rxjs';
import type { DexieStorageInternals, MangoQuery, MangoQuerySortPart, RxCollection, RxDocumentData } from 'rxdb';
import { DEXIE_DOCS_TABLE_NAME, dexieReplaceIfStartsWithPipe, fromDexieToStorage, getKeyRangeByQueryPlan } from 'rxdb/plugins/storage-dexie';

/** What RxDocument.toJSON() returns: the document without RxDB's own fields. */
function withoutMeta<T>(doc: RxDocumentData<T>): T {
  const { _meta: _m, _rev: _r, _deleted: _d, _attachments: _a, ...data } = doc as RxDocumentData<T> & { _attachments?: unknown };
  return data as T;
}

interface RangePlan {
  state: Awaited<DexieStorageInternals>;
  range: IDBKeyRange;
  indexName: string;
}

/**
 * RxDB's own plan for `query` (the index and key range it would walk forwards), or null when it
 * cannot be read directly here: not the Dexie storage, or the index does not serve the query
 * whole (selector and sort), so RxDB would have to filter or sort.
 */
async function planRange<T>(collection: RxCollection<T>, query: MangoQuery<T>): Promise<RangePlan | null> {
  if (collection.database.storage.name !== 'dexie') return null;
  const plan = collection.find(query).getPreparedQuery().queryPlan;
  if (!plan.sortSatisfiedByIndex || !plan.selectorSatisfiedByIndex) return null;
  const state = await (collection.storageInstance as unknown as { internals: DexieStorageInternals }).internals;
  const keyRange = (state.dexieDb as unknown as { _options: { IDBKeyRange?: unknown } })._options.IDBKeyRange;
  return {
    state,
    range: getKeyRangeByQueryPlan(state.booleanIndexes, plan, keyRange) as IDBKeyRange,
    indexName: `[${plan.index.map(dexieReplaceIfStartsWithPipe).join('+')}]`,
  };
}

/** IndexedDB 3's getAllRecords (Chromium 141+): a backwards page in one request, not one per record. */
type WithGetAllRecords = IDBIndex & {
  getAllRecords?: (options: { query: IDBKeyRange; count: number; direction: IDBCursorDirection }) => IDBRequest<{ value: unknown }[]>;
};

function request<R>(req: IDBRequest<R>): Promise<R> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The `limit` last stored documents of the plan's range, last first. */
async function readLastStored({ range }: RangePlan, index: WithGetAllRecords, limit: number): Promise<unknown[]> {
  if (typeof index.getAllRecords === 'function') {
    return (await request(index.getAllRecords({ query: range, count: limit, direction: 'prev' }))).map((r) => r.value);
  }
  const values: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = index.openCursor(range, 'prev');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor) return resolve();
      values.push(cursor.value);
      if (values.length >= limit) resolve();
      else cursor.continue();
    };
  });
  return values;
}

/** Reads the plan's index in one read-only transaction and returns the documents as toJSON() would. */
async function readIndex<T>(plan: RangePlan, read: (index: WithGetAllRecords) => Promise<unknown[]>): Promise<T[]> {
  const { state, indexName } = plan;
  let stored: unknown[] = [];
  await state.dexieDb.transaction('r', state.dexieTable, async (tx) => {
    stored = await read((tx as unknown as { idbtrans: IDBTransaction }).idbtrans.objectStore(DEXIE_DOCS_TABLE_NAME).index(indexName));
  });
  return stored.map((v) => withoutMeta(fromDexieToStorage<T>(state.booleanIndexes, v)));
}

/** The `limit` last documents of the plan's range, last first. */
function readLast<T>(plan: RangePlan, limit: number): Promise<T[]> {
  return readIndex<T>(plan, (index) => readLastStored(plan, index, limit));
}

/**
 * Every document `query` finds, in its order, as plain objects (no RxDocuments); RxDB's query
 * where the index does not serve it or elsewhere than on Dexie.
 */
export async function readAll<T>(collection: RxCollection<T>, query: MangoQuery<T>): Promise<T[]> {
  const plan = query.limit === undefined && query.skip === undefined ? await planRange(collection, query) : null;
  if (plan === null) return (await collection.find(query).exec()).map((d) => d.toJSON() as T);
  return readIndex<T>(plan, (index) => request(index.getAll(plan.range)));
}

/**
 * The newest `limit` documents by `field` (ties by primary key, both descending), live: read
 * again after every write to the collection (in any tab). Elsewhere than on Dexie, RxDB's query.
 */
export function newestFirst$<T>(collection: RxCollection<T>, field: keyof T & string, limit: number): Observable<T[]> {
  const primary = collection.schema.primaryPath as keyof T & string;
  const sort = (direction: 'asc' | 'desc') => [{ [field]: direction }, { [primary]: direction }] as MangoQuerySortPart<T>[];
  return defer(() => from(planRange(collection, { sort: sort('asc') }))).pipe(
    switchMap((plan) => {
      if (plan === null) return collection.find({ sort: sort('desc'), limit }).$.pipe(map((docs) => docs.map((d) => d.toJSON() as T)));
      // A read that fails (the database closing under it) is skipped; the next write reads again.
      const read = () => from(readLast<T>(plan, limit).catch(() => null));
      return concat(read(), collection.eventBulks$.pipe(switchMap(read))).pipe(filter((docs): docs is T[] => docs !== null));
    }),
  );
}
