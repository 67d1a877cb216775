/**
 * The one door to RxDB's and its Dexie storage's internals (docs/decisions/rxdb-internals.md).
 * The app reads some things faster, or earlier, than RxDB's public API allows: an index range in
 * one IndexedDB request, the push checkpoint RxDB keeps in its replication meta, its IndexedDB
 * layout before RxDB has opened. Each use checks the assumption it rests on and throws when it no
 * longer holds, so an RxDB upgrade fails the tests instead of quietly reading the wrong range.
 * Written for, and checked against, RXDB_VERSION below (rxdb-internals.test.ts pins it).
 */
import { map } from 'rxjs';
import {
  createRevision,
  getComposedPrimaryKeyOfDocumentData,
  getPrimaryFieldOfPrimaryKey,
  now,
  RXDB_VERSION,
  type BulkWriteRow,
  type DexieStorageInternals,
  type MangoQuery,
  type RxCollection,
  type RxDocumentData,
  type RxQueryPlan,
  type RxStorage,
  type RxStorageInstance,
  type RxStorageWriteErrorConflict,
} from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { DEXIE_DOCS_TABLE_NAME, dexieReplaceIfStartsWithPipe, fromDexieToStorage, getKeyRangeByQueryPlan } from 'rxdb/plugins/storage-dexie';
import { dispenseRxJsonSchema } from '../../../schemas/rxdb-schema';

export const WRITTEN_FOR_RXDB = '17.6.0';

/* eslint-disable @typescript-eslint/no-explicit-any -- RxDB's storages differ in the types of their internals, settings and documents; the app passes any of them through */
/** Any RxDB storage (Dexie, or Dexie wrapped by dev-mode's validation). */
export type AnyRxStorage = RxStorage<any, any>;
/** Any storage instance of one. */
export type AnyStorageInstance = RxStorageInstance<any, any, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A broken assumption about RxDB: never caught and papered over. */
export class RxdbInternalsChanged extends Error {
  constructor(what: string) {
    super(`RxDB ${RXDB_VERSION} no longer works as client/rxdb-internals.ts (written for ${WRITTEN_FOR_RXDB}) assumes: ${what}`);
    this.name = 'RxdbInternalsChanged';
  }
}

function assume(ok: unknown, what: string): asserts ok {
  if (!ok) throw new RxdbInternalsChanged(what);
}

// ---------------------------------------------------------------- IndexedDB layout of the Dexie storage

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
    ...versions(1).map((v) => `${prefix}${v}--syncmarks`), // syncMarkSchema's versions (sync/marks.ts)
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

// ---------------------------------------------------------------- a collection's Dexie storage

type KeyRangeClass = typeof IDBKeyRange;
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

function docsOfInstance(instance: object): DexieDocs {
  let docs = byInstance.get(instance);
  if (!docs) {
    docs = docsOf((instance as { internals: Promise<DexieState> }).internals);
    byInstance.set(instance, docs);
  }
  return docs;
}

/**
 * The Dexie storage of `collection`, or null on another storage. RxDB's wrappers (dev-mode's
 * schema validation: 'validate-ajv-dexie') keep the Dexie storage's internals and end its name
 * in '-dexie', so the fast reads run in tests as in the app.
 */
export function dexieDocsOf<T>(collection: RxCollection<T>): DexieDocs | null {
  if (!/(^|-)dexie$/.test(collection.database.storage.name)) return null;
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

/** A position in the order RxDB pushes records in: last local write time, then primary key. */
export interface ChangesCheckpoint {
  id: string;
  lwt: number;
}

/**
 * Gives a Dexie storage instance a `getChangedDocumentsSince` (what the replication calls for its
 * next batch): `read`, which gets the instance's documents store. RxDB 17's helper of that name
 * calls the instance's method when it has one, and else walks the index by cursor (the Dexie
 * storage has none of its own); test/client/records.test.ts holds the two against each other.
 */
export function replaceChangesRead<I extends AnyStorageInstance>(
  instance: I,
  read: (
    docs: DexieDocs,
    limit: number,
    checkpoint: ChangesCheckpoint | undefined,
  ) => Promise<{ documents: RxDocumentData<unknown>[]; checkpoint: ChangesCheckpoint }>,
): I {
  assume(!('getChangedDocumentsSince' in instance), 'the Dexie storage has no getChangedDocumentsSince of its own');
  const docs = docsOfInstance(instance);
  return Object.assign(instance, { getChangedDocumentsSince: (limit: number, checkpoint?: ChangesCheckpoint) => read(docs, limit, checkpoint) });
}

/**
 * Gives the change events of a storage instance the checkpoint of the last of their documents in
 * push order (`_meta.lwt`, then id), not of the last written. RxDB's storage gives every document
 * of one bulk write the same lwt and names the last row written: the upstream of a live
 * replication stores that as its checkpoint, so the bulk's documents with the same lwt and a
 * greater id stayed after it (a pull of 1000 records left most of them "pending" until the next
 * run re-read them). The upstream handles the whole bulk at once, so the bulk's last position in
 * push order is as safe a checkpoint as the one RxDB names.
 */
export function orderedChangeCheckpoints<I extends AnyStorageInstance>(instance: I, primary: string): I {
  const changeStream = instance.changeStream.bind(instance);
  assume(typeof changeStream === 'function', 'a storage instance has changeStream()');
  const positionOf = (doc: { _meta?: { lwt?: number } } & Record<string, unknown>): ChangesCheckpoint => {
    assume(typeof doc._meta?.lwt === 'number' && typeof doc[primary] === 'string', 'a change event carries its document with _meta.lwt');
    return { id: doc[primary] as string, lwt: doc._meta!.lwt! };
  };
  return Object.assign(instance, {
    changeStream: () =>
      changeStream().pipe(
        map((bulk) => {
          let last: ChangesCheckpoint | null = null;
          for (const e of bulk.events) {
            const at = positionOf(e.documentData as never);
            if (!last || at.lwt > last.lwt || (at.lwt === last.lwt && at.id > last.id)) last = at;
          }
          return last ? { ...bulk, checkpoint: last } : bulk;
        }),
      ),
  });
}

// ---------------------------------------------------------------- the push replication's meta

/** RxDB's meta document of the push checkpoint: itemId 'up', isCheckpoint '1' ('up|1'). */
const PUSH_CHECKPOINT_DOC = 'up|1';

function checkpointOf(data: unknown): ChangesCheckpoint | null {
  if (data === undefined || data === null) return null;
  const cp = data as Partial<ChangesCheckpoint>;
  assume(typeof cp.id === 'string' && typeof cp.lwt === 'number', "the push checkpoint is { id, lwt } (RxDB's changes of the Dexie storage)");
  return { id: cp.id, lwt: cp.lwt };
}

/**
 * RxDB's push checkpoint as stored in the replication's meta: after each write of it, and when
 * read() is called. RxDB stores it once the server answered a batch and the batch is noted.
 * Call once the replication has started (it makes its meta then).
 */
export function watchPushCheckpoint<T, C>(state: RxReplicationState<T, C>, onCheckpoint: (cp: ChangesCheckpoint | null, exact: boolean) => void) {
  const meta = state.metaInstance;
  assume(meta && typeof meta.changeStream === 'function', 'a started replication has its metaInstance');
  const sub = meta.changeStream().subscribe((bulk) => {
    for (const e of bulk.events) {
      if (e.documentId !== PUSH_CHECKPOINT_DOC) continue;
      const cp = checkpointOf((e.documentData as { checkpointData?: unknown }).checkpointData);
      if (cp) onCheckpoint(cp, false);
    }
  });
  return {
    sub,
    read: async () => {
      const [doc] = await meta.findDocumentsById([PUSH_CHECKPOINT_DOC], false);
      assume(!doc || (doc as { itemId?: string }).itemId === 'up', `the push checkpoint's meta document is '${PUSH_CHECKPOINT_DOC}'`);
      onCheckpoint(checkpointOf((doc as { checkpointData?: unknown } | undefined)?.checkpointData), true);
    },
  };
}

/**
 * Resolves once RxDB has written the checkpoint of what it pushed so far: awaitInSync() does not
 * wait for that write, which RxDB queues on its internal `checkpointQueue`.
 */
export function checkpointWritten<T, C>(state: RxReplicationState<T, C>): Promise<unknown> {
  const queue = (state as unknown as { internalReplicationState?: { checkpointQueue?: Promise<unknown> } }).internalReplicationState?.checkpointQueue;
  assume(queue && typeof queue.then === 'function', 'a started replication queues its checkpoint writes on internalReplicationState.checkpointQueue');
  return queue;
}

/**
 * Resolves once every push RxDB's upstream has under way now is answered and noted in its meta
 * (assumed server states written, conflicts resolved). RxDB queues all of its upstream work, its
 * first pass and each later batch, on `streamQueue.up`; the promise there now covers what is
 * queued now, not what comes later.
 */
export function pushesUnderWaySettled<T, C>(state: RxReplicationState<T, C>): Promise<unknown> {
  const queue = (state as unknown as { internalReplicationState?: { streamQueue?: { up?: Promise<unknown> } } }).internalReplicationState?.streamQueue
    ?.up;
  assume(queue && typeof queue.then === 'function', 'a started replication queues its upstream work on internalReplicationState.streamQueue.up');
  return queue;
}

// ---------------------------------------------------------------- the pull's writes

/** The context of the bulk writes of RxDB's downstream (its pull) to the collection: this, then the replication's checkpoint key. */
const PULL_WRITE_CONTEXT = 'replication-downstream-';

/**
 * The mark in `_meta` of a record that came to this device by a pull (it was new here when RxDB's
 * pull wrote it): a record without it was made here. RxDB keeps no such mark itself: its wrapper
 * of every storage instance gives an inserted document a fresh `_meta` (the `_meta.o` its pull
 * sets is lost on an insert). Set below that wrapper, it is stored, and RxDB's later writes keep
 * it: a local edit merges the previous `_meta` in, a pulled update starts from the stored one.
 */
const PULLED_MARK = 'semsPulled';

/**
 * Gives a storage instance's writes a check on what RxDB's pull writes: a row the pull would write
 * where `refuse(stored, pulled)` holds is answered with a conflict (409) instead, and not written.
 * RxDB's downstream ignores a conflict on its write (upstream handling is assumed to follow) and
 * writes no replication meta for that row, so its assumed server state stays the one it had.
 * The row's `previous` is the stored document: the storage refuses the write if it is not.
 * A record new to this device gets the pulled mark (PULLED_MARK): it was not made here.
 */
export function checkPullWrites<I extends AnyStorageInstance>(
  instance: I,
  refuse: (stored: RxDocumentData<unknown>, pulled: RxDocumentData<unknown>) => boolean,
): I {
  const bulkWrite = instance.bulkWrite.bind(instance);
  const primary = getPrimaryFieldOfPrimaryKey(instance.schema.primaryKey) as string;
  return Object.assign(instance, {
    bulkWrite: async (rows: BulkWriteRow<unknown>[], context: string) => {
      if (!context.startsWith(PULL_WRITE_CONTEXT)) return bulkWrite(rows, context);
      const refused: RxStorageWriteErrorConflict<unknown>[] = [];
      const written = rows
        .filter((row) => {
          if (!row.previous || !refuse(row.previous, row.document)) return true;
          const documentId = String((row.document as Record<string, unknown>)[primary]);
          refused.push({ status: 409, isError: true, documentId, writeRow: row, context, documentInDb: row.previous });
          return false;
        })
        .map((row) => {
          if (row.previous) return row;
          const meta = row.document._meta;
          assume(meta && typeof meta.lwt === 'number', "RxDB's pull writes a document with _meta");
          return { ...row, document: { ...row.document, _meta: { ...meta, [PULLED_MARK]: 1 } } };
        });
      const result = written.length > 0 ? await bulkWrite(written, context) : { error: [] };
      return { ...result, error: [...result.error, ...refused] };
    },
  });
}

// ---------------------------------------------------------------- sending again what a restored server lost

/**
 * The stored records after `afterId` in primary key order (`limit` read), and of those the ones
 * this device made: without the pulled mark (PULLED_MARK, set by checkPullWrites). A record pulled
 * before this build (no mark) counts as made here (docs/decisions/resend-after-restore.md).
 * `last` is null once no record is left.
 */
export async function madeHerePage<T>(
  collection: RxCollection<T>,
  afterId: string | null,
  limit: number,
): Promise<{ made: RxDocumentData<T>[]; last: string | null }> {
  const primary = collection.schema.primaryPath as string;
  const docs = dexieDocsOf(collection);
  const stored: RxDocumentData<T>[] = docs
    ? await docs.read(async (r) => {
        const range = afterId === null ? undefined : r.KeyRange.lowerBound(afterId, true);
        const values = await new Promise<unknown[]>((resolve, reject) => {
          const req = r.store.getAll(range, limit);
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        return values.map((v) => r.toDocument<T>(v));
      })
    : (
        await collection
          .find({ selector: afterId === null ? {} : { [primary]: { $gt: afterId } }, sort: [{ [primary]: 'asc' }], limit } as MangoQuery<T>)
          .exec()
      ).map((d) => d.toMutableJSON(true) as RxDocumentData<T>);
  const made = stored.filter((d) => {
    const meta = (d as { _meta?: { lwt?: unknown } })._meta;
    assume(meta && typeof meta.lwt === 'number', 'a stored document has _meta with its lwt');
    return !d._deleted && !(PULLED_MARK in meta);
  });
  const last = stored.length > 0 ? String((stored[stored.length - 1] as Record<string, unknown>)[primary]) : null;
  return { made, last };
}

/** RxDB's meta document of what the replication assumes the server holds of a record: itemId the id, isCheckpoint '0' ('<id>|0'). */
function assumedMasterDocId(meta: AnyStorageInstance, id: string): string {
  const docId = getComposedPrimaryKeyOfDocumentData(meta.schema, { itemId: id, isCheckpoint: '0' });
  assume(docId === `${id}|0`, "the replication's meta document of a record is '<id>|0'");
  return docId;
}

/**
 * Makes records the server lost (a restore from an older backup) pending again, so the next run's
 * push sends them; returns the ids done. Two writes, in this order:
 *
 * 1. RxDB's upstream skips a record equal to its "assumed master state" (the meta document
 *    '<id>|0'), so that state is set to what is true now: the server holds no such record
 *    (`_deleted`, which the push handler sends as assumedMasterState null). A meta document found
 *    by id is used even when deleted, so removing it would change nothing.
 * 2. The record is written again as it is, through the collection's storage instance, which
 *    gives it a new `_meta.lwt`: it is after the push checkpoint, so pending (sync/pending.ts), and
 *    the next run's push reads it. Its data and updatedAt do not change.
 *
 * Call only while the replication is started and paused (between runs): a running upstream could
 * read a record between the two writes. A record changed meanwhile (a 409 on either write) is
 * left: a local change is pending and sent anyway.
 */
export async function markForResend<T, C>(state: RxReplicationState<T, C>, collection: RxCollection<T>, ids: string[]): Promise<string[]> {
  const meta = state.metaInstance as AnyStorageInstance | undefined;
  assume(meta && typeof meta.bulkWrite === 'function', 'a started replication has its metaInstance');
  if (ids.length === 0) return [];
  const token = collection.database.token;
  const found = await meta.findDocumentsById(
    ids.map((id) => assumedMasterDocId(meta, id)),
    true,
  );
  const metaRows: BulkWriteRow<unknown>[] = found.map((doc) => {
    const d = doc as RxDocumentData<{ itemId: string; isCheckpoint: string; docData?: Record<string, unknown> }>;
    assume(
      d.isCheckpoint === '0' && typeof d.docData === 'object' && d.docData !== null,
      'a meta document holds the assumed master state in docData',
    );
    return {
      previous: d,
      document: { ...d, docData: { ...d.docData, _deleted: true }, _meta: { ...d._meta, lwt: now() }, _rev: createRevision(token, d) },
    };
  });
  const metaResult = metaRows.length > 0 ? await meta.bulkWrite(metaRows, 'sems-resend-meta') : { error: [] };
  const other = metaResult.error.find((e) => e.status !== 409);
  if (other) throw new Error(`Marking records to send again failed (${other.status}) for ${other.documentId}`);
  const metaRaced = new Set(metaResult.error.map((e) => String(e.documentId).replace(/\|0$/, '')));

  const instance = collection.storageInstance;
  const stored = await instance.findDocumentsById(
    ids.filter((id) => !metaRaced.has(id)),
    false,
  );
  if (stored.length === 0) return [];
  // The storage instance RxDB wraps each collection's in sets a new lwt and revision on every write with a previous document.
  const result = await instance.bulkWrite(
    stored.map((d) => ({ previous: d, document: d })),
    'sems-resend',
  );
  const recordError = result.error.find((e) => e.status !== 409);
  if (recordError) throw new Error(`Writing a record to send again failed (${recordError.status}) for ${recordError.documentId}`);
  const raced = new Set(result.error.map((e) => e.documentId));
  const primary = collection.schema.primaryPath as string;
  return stored.map((d) => String((d as Record<string, unknown>)[primary])).filter((id) => !raced.has(id));
}

// ---------------------------------------------------------------- the version written for

/** In tests and development a different RxDB stops here; elsewhere it is logged once. */
export function checkRxdbVersion(strict: boolean): void {
  if (RXDB_VERSION === WRITTEN_FOR_RXDB) return;
  const err = new RxdbInternalsChanged(`the version is ${RXDB_VERSION}; re-check every assumption in this file, then update WRITTEN_FOR_RXDB`);
  if (strict) throw err;
  console.error(err);
}
