/**
 * Reads of an index range straight from IndexedDB, where RxDB's Dexie storage is slow: it walks
 * an index forwards only, one cursor step (a round trip to the browser's storage) per document.
 * So a query sorted `desc` reads and sorts every record (with 100,000 records the list's first
 * page took 8-12 s in Chromium), and a large result arrives one document per step (20,000
 * pending marks: 1.6 s before each sync). Here the same index and key range, from RxDB's own
 * query plan (queryPlanOf), are read in one request: getAll, or getAllRecords backwards where the
 * browser has it (a reverse cursor elsewhere). It leans on dexie-read.ts for the documents' store,
 * and on a storage instance's findDocumentsById for reads by id without RxDocuments.
 * test/client/records.test.ts holds each read against RxDB's own slow path.
 */
import { concat, defer, filter, from, map, startWith, switchMap, type Observable } from 'rxjs';
import type { MangoQuery, MangoQuerySortPart, RxCollection, RxDocumentData } from 'rxdb';
import { dexieDocsOf, indexOf, queryPlanOf, request, type DexieRead } from './dexie-read';

/** What RxDocument.toJSON() returns: the document without RxDB's own fields. */
export function withoutMeta<T>(doc: RxDocumentData<T>): T {
  const { _meta: _m, _rev: _r, _deleted: _d, _attachments: _a, ...data } = doc as RxDocumentData<T> & { _attachments?: unknown };
  return data as T;
}

/**
 * Reads `query`'s index range with `read`, in RxDB's order, as plain documents; null when it
 * cannot be read directly here: not the Dexie storage, or the index does not serve the query whole
 * (selector and sort), so RxDB would have to filter or sort.
 */
async function readPlan<T>(
  collection: RxCollection<T>,
  query: MangoQuery<T>,
  read: (index: WithGetAllRecords, range: IDBKeyRange) => Promise<unknown[]>,
): Promise<T[] | null> {
  const docs = dexieDocsOf(collection);
  if (!docs) return null;
  const { plan, indexName } = queryPlanOf(collection, query);
  if (!plan.sortSatisfiedByIndex || !plan.selectorSatisfiedByIndex) return null;
  return docs.read(async (r: DexieRead) => {
    const stored = await read(indexOf(r.store, indexName), r.rangeOf(plan));
    return stored.map((v) => withoutMeta(r.toDocument<T>(v)));
  });
}

/** IndexedDB 3's getAllRecords (Chromium 141+): a backwards page in one request, not one per record. */
type WithGetAllRecords = IDBIndex & {
  getAllRecords?: (options: { query: IDBKeyRange; count: number; direction: IDBCursorDirection }) => IDBRequest<{ value: unknown }[]>;
};

/** The `limit` last stored documents of the range, last first. */
async function readLastStored(index: WithGetAllRecords, range: IDBKeyRange, limit: number): Promise<unknown[]> {
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

/**
 * Every document `query` finds, in its order, as plain objects (no RxDocuments); RxDB's query
 * where the index does not serve it or elsewhere than on Dexie.
 */
export async function readAll<T>(collection: RxCollection<T>, query: MangoQuery<T>): Promise<T[]> {
  const direct =
    query.limit === undefined && query.skip === undefined ? await readPlan(collection, query, (index, range) => request(index.getAll(range))) : null;
  return direct ?? (await collection.find(query).exec()).map((d) => d.toJSON() as T);
}

/**
 * The newest `limit` documents by `field` (ties by primary key, both descending), live: read
 * again after every write to the collection (in any tab). Elsewhere than on Dexie, RxDB's query.
 */
export function newestFirst$<T>(collection: RxCollection<T>, field: keyof T & string, limit: number): Observable<T[]> {
  const primary = collection.schema.primaryPath as keyof T & string;
  const sort = (direction: 'asc' | 'desc') => [{ [field]: direction }, { [primary]: direction }] as MangoQuerySortPart<T>[];
  const ascending: MangoQuery<T> = { sort: sort('asc') };
  const readLast = () => readPlan(collection, ascending, (index, range) => readLastStored(index, range, limit));
  return defer(() => from(readLast())).pipe(
    switchMap((first) => {
      if (first === null) return collection.find({ sort: sort('desc'), limit }).$.pipe(map((docs) => docs.map((d) => d.toJSON() as T)));
      // A read that fails (the database closing under it) is skipped; the next write reads again.
      const read = () => from(readLast().catch(() => null));
      return concat([first], collection.eventBulks$.pipe(switchMap(read))).pipe(filter((docs): docs is T[] => docs !== null));
    }),
  );
}

/**
 * The stored documents of `ids` that are not deleted, as plain data without RxDB's own fields, in
 * the storage's order: the storage's own read by id, no RxDocuments made.
 */
export async function readByIds<T>(collection: RxCollection<T>, ids: string[]): Promise<T[]> {
  return (await collection.storageInstance.findDocumentsById(ids, false)).map((doc) => withoutMeta(doc));
}

/**
 * The stored documents of `ids` (plain data, no RxDocuments), read again whenever one of them is
 * written in any tab.
 */
export function storedDocs$<T>(collection: RxCollection<T>, ids: string[]): Observable<RxDocumentData<T>[]> {
  const wanted = new Set(ids);
  return collection.eventBulks$.pipe(
    filter((bulk) => bulk.events.some((e) => wanted.has(e.documentId))),
    startWith(null),
    switchMap(() => from(collection.storageInstance.findDocumentsById(ids, false))),
  );
}
