/**
 * Reads of an index range straight from IndexedDB, where RxDB's Dexie storage is slow: it walks
 * an index forwards only, one cursor step (a round trip to the browser's storage) per document.
 * So a query sorted `desc` reads and sorts every record (with 100,000 records the list's first
 * page took 8-12 s in Chromium), and a large result arrives one document per step (20,000
 * pending marks: 1.6 s before each sync). Here the same index and key range, from RxDB's own
 * query plan, are read in one request: getAll, or getAllRecords backwards where the browser has
 * it (a reverse cursor elsewhere). What this rests on of RxDB's internals is in rxdb-internals.ts;
 * test/client/records.test.ts holds each read against RxDB's own slow path.
 */
import { concat, defer, filter, from, map, startWith, switchMap, type Observable } from 'rxjs';
import {
  getChangedDocumentsSince,
  getPrimaryFieldOfPrimaryKey,
  type MangoQuery,
  type MangoQuerySortPart,
  type RxCollection,
  type RxDocumentData,
} from 'rxdb';
import {
  changesIndexName,
  dexieDocsOf,
  indexOf,
  orderedChangeCheckpoints,
  queryPlanOf,
  replaceChangesRead,
  type AnyRxStorage,
  type ChangesCheckpoint,
  type DexieRead,
} from './internals';

export type { ChangesCheckpoint } from './internals';

/** What RxDocument.toJSON() returns: the document without RxDB's own fields. */
function withoutMeta<T>(doc: RxDocumentData<T>): T {
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

function request<R>(req: IDBRequest<R>): Promise<R> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

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

type KeyRangeClass = typeof IDBKeyRange;

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

/**
 * RxDB's Dexie storage with the replication's changes read in one request. RxDB asks for the next
 * batch of changes since its checkpoint (the `_meta.lwt` + primary key index, from a point on, up
 * to `limit`); without this the Dexie storage walks that index one cursor step per document, a
 * round trip to the browser's storage each. Here the same range of the same index is one getAll.
 * Its change events name the last of their documents in that order as their checkpoint
 * (rxdb-internals.ts, orderedChangeCheckpoints). Everything else is the Dexie storage itself;
 * other storages are returned as they are.
 */
export function withIndexReads<S extends AnyRxStorage>(storage: S): S {
  if (storage.name !== 'dexie') return storage;
  return {
    ...storage,
    async createStorageInstance(params) {
      const instance = await storage.createStorageInstance(params);
      const primary = getPrimaryFieldOfPrimaryKey(params.schema.primaryKey) as string;
      const name = changesIndexName(primary);
      orderedChangeCheckpoints(instance, primary);
      return replaceChangesRead(instance, async (docs, limit, checkpoint) => {
        const documents = await docs.read(async (r) => {
          const stored = await request(indexOf(r.store, name).getAll(rangeAfter(r.KeyRange, checkpoint ?? null), limit));
          return stored.map((v) => r.toDocument<Record<string, unknown>>(v));
        });
        const last = documents[documents.length - 1];
        return {
          documents,
          checkpoint: last ? { id: last[primary] as string, lwt: last._meta.lwt as number } : (checkpoint ?? { id: '', lwt: 0 }),
        };
      });
    },
  } as S;
}
