/**
 * The newest records by an indexed field, read backwards through that index. IndexedDB (Dexie)
 * walks an index range forwards only as RxDB uses it, so RxDB answers a query sorted `desc` by
 * reading every record and sorting them in memory: with 100,000 records on the device the list's
 * first page took 8-11 s in Chromium. The same index read with a reverse cursor stops after `limit`.
 */
import { concat, defer, filter, from, map, switchMap, type Observable } from 'rxjs';
import type { DexieStorageInternals, MangoQuerySortPart, RxCollection, RxDocumentData } from 'rxdb';
import { DEXIE_DOCS_TABLE_NAME, dexieReplaceIfStartsWithPipe, fromDexieToStorage, getKeyRangeByQueryPlan } from 'rxdb/plugins/storage-dexie';

/** What RxDocument.toJSON() returns: the document without RxDB's own fields. */
function withoutMeta<T>(doc: RxDocumentData<T>): T {
  const { _meta: _m, _rev: _r, _deleted: _d, _attachments: _a, ...data } = doc as RxDocumentData<T> & { _attachments?: unknown };
  return data as T;
}

interface ReversePlan {
  state: Awaited<DexieStorageInternals>;
  range: IDBKeyRange;
  indexName: string;
}

/**
 * RxDB's own plan for the ascending query (the index and key range it would walk forwards), or
 * null when a reverse read is not possible here: not the Dexie storage, or no index serves `sort`.
 */
async function reversePlan<T>(collection: RxCollection<T>, sort: MangoQuerySortPart<T>[]): Promise<ReversePlan | null> {
  if (collection.database.storage.name !== 'dexie') return null;
  const plan = collection.find({ sort }).getPreparedQuery().queryPlan;
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
async function readLastStored({ range }: ReversePlan, index: WithGetAllRecords, limit: number): Promise<unknown[]> {
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

/** The `limit` last documents of the plan's range, last first. */
async function readLast<T>(plan: ReversePlan, limit: number): Promise<T[]> {
  const { state, indexName } = plan;
  let stored: unknown[] = [];
  await state.dexieDb.transaction('r', state.dexieTable, async (tx) => {
    const index = (tx as unknown as { idbtrans: IDBTransaction }).idbtrans.objectStore(DEXIE_DOCS_TABLE_NAME).index(indexName);
    stored = await readLastStored(plan, index, limit);
  });
  return stored.map((v) => withoutMeta(fromDexieToStorage<T>(state.booleanIndexes, v)));
}

/**
 * The newest `limit` documents by `field` (ties by primary key, both descending), live: read
 * again after every write to the collection (in any tab). Elsewhere than on Dexie, RxDB's query.
 */
export function newestFirst$<T>(collection: RxCollection<T>, field: keyof T & string, limit: number): Observable<T[]> {
  const primary = collection.schema.primaryPath as keyof T & string;
  const sort = (direction: 'asc' | 'desc') => [{ [field]: direction }, { [primary]: direction }] as MangoQuerySortPart<T>[];
  return defer(() => from(reversePlan(collection, sort('asc')))).pipe(
    switchMap((plan) => {
      if (plan === null) return collection.find({ sort: sort('desc'), limit }).$.pipe(map((docs) => docs.map((d) => d.toJSON() as T)));
      // A read that fails (the database closing under it) is skipped; the next write reads again.
      const read = () => from(readLast<T>(plan, limit).catch(() => null));
      return concat(read(), collection.eventBulks$.pipe(switchMap(read))).pipe(filter((docs): docs is T[] => docs !== null));
    }),
  );
}
