/**
 * A new device's first pull without the reads that find nothing (docs/decisions/first-pull-writes.md).
 * On a records store that was empty when this database opened, a read by id of an id no write has
 * touched since answers "none" without IndexedDB, for the records and for their replication meta;
 * a write of rows that are all new is one IndexedDB `add` each, with no read first, and falls back
 * to the Dexie storage's own write if any id exists after all. It leans on the Dexie storage
 * instance's `internals` (dexieDb, dexieTable, booleanIndexes), its private `changes$` subject,
 * the Dexie plugin's fromStorageToDexie, RxDB's categorizeBulkWriteRows, the replication meta
 * document id `<record id>|0` and its schema title, and on the records having no attachments.
 * test/client/first-pull-writes.test.ts holds it against RxDB's own path.
 */
import {
  categorizeBulkWriteRows,
  getPrimaryFieldOfPrimaryKey,
  META_INSTANCE_SCHEMA_TITLE,
  type BulkWriteRow,
  type DexieStorageInternals,
  type RxStorageBulkWriteResponse,
} from 'rxdb';
import { fromStorageToDexie } from 'rxdb/plugins/storage-dexie';
import { assume, isDexieStorage, type AnyRxStorage, type AnyStorageInstance } from './assumptions';
import { DOCS_STORE } from './names';

/** Past this many ids the set costs more memory than the reads it saves: reads go to IndexedDB again. */
const MAX_KNOWN = 250_000;
/** A record's meta document: its id, then '|', then '0' (not a checkpoint). */
const META_SUFFIX = '|0';

/** The ids written to a records store that was empty when it opened. */
interface Known {
  ids: Set<string>;
  on: boolean;
}

/** Per RxDatabase (its instance token): the records instance's Known, for its meta instance. */
const byDatabase = new Map<string, Known>();

type DexieState = Awaited<DexieStorageInternals>;

async function dexieState(instance: AnyStorageInstance): Promise<DexieState> {
  const s = await (instance as unknown as { internals?: DexieStorageInternals }).internals;
  assume(s?.dexieDb && s.dexieTable && Array.isArray(s.booleanIndexes), 'Dexie internals hold dexieDb, dexieTable and booleanIndexes');
  return s;
}

/** Does the meta store hold nothing but checkpoint documents (none of a record)? */
async function onlyCheckpoints(instance: AnyStorageInstance): Promise<boolean> {
  const keys = await (await dexieState(instance)).dexieTable.limit(3).primaryKeys();
  return keys.every((key) => !String(key).endsWith(META_SUFFIX));
}

function note(known: Known, id: string | null): void {
  if (id === null || !known.on) return;
  known.ids.add(id);
  if (known.ids.size > MAX_KNOWN) {
    known.on = false;
    known.ids.clear();
  }
}

/** Did an `add` fail because an id was already there (Dexie's BulkError of ConstraintErrors, or the aborted transaction's)? */
function isClash(err: unknown): boolean {
  const e = err as { name?: string; failures?: { name?: string }[]; inner?: { name?: string } } | null;
  if (!e) return false;
  if (e.name === 'ConstraintError' || e.inner?.name === 'ConstraintError') return true;
  return e.name === 'BulkError' && (e.failures ?? []).every((f) => f?.name === 'ConstraintError');
}

/**
 * Writes rows that are all new with one `add` each in one transaction, and emits RxDB's change
 * events for them as the Dexie storage's bulkWrite does. null when a row is not a plain insert,
 * or an id exists after all (nothing is written then).
 */
async function insertAll(instance: AnyStorageInstance, primary: string, rows: BulkWriteRow<unknown>[], context: string) {
  const s = await dexieState(instance);
  const categorized = categorizeBulkWriteRows(instance, primary as never, new Map(), rows, context);
  if (categorized.errors.length > 0 || categorized.bulkUpdateDocs.length > 0 || categorized.attachmentsAdd.length > 0) return null;
  const docs = categorized.bulkInsertDocs.map((row) => fromStorageToDexie(s.booleanIndexes, row.document));
  let clash = false;
  try {
    await s.dexieDb.transaction('rw', s.dexieTable, async (tx) => {
      // IndexedDB's own requests: Dexie's bulkAdd made each `add` cost about a third more (CDP profile).
      const idb = (tx as unknown as { idbtrans?: IDBTransaction }).idbtrans;
      assume(idb && typeof idb.objectStore === 'function', "a Dexie transaction exposes its IndexedDB transaction as 'idbtrans'");
      const store = idb.objectStore(DOCS_STORE);
      const failed = (e: Event) => {
        clash ||= (e.target as IDBRequest).error?.name === 'ConstraintError';
      };
      await new Promise<void>((resolve, reject) => {
        let last: IDBRequest | null = null;
        for (const doc of docs) {
          last = store.add(doc);
          last.onerror = failed;
        }
        if (!last) return resolve();
        last.onsuccess = () => resolve();
        idb.addEventListener('abort', () => reject(idb.error ?? new DOMException('aborted', 'AbortError')));
      });
    });
  } catch (err) {
    if (clash || isClash(err)) return null;
    throw err;
  }
  const changes$ = (instance as unknown as { changes$?: { next: (bulk: unknown) => void } }).changes$;
  assume(changes$ && typeof changes$.next === 'function', 'a Dexie storage instance emits its change events on changes$');
  const newest = categorized.newestRow?.document as (Record<string, unknown> & { _meta: { lwt: number } }) | undefined;
  if (newest && categorized.eventBulk.events.length > 0) {
    categorized.eventBulk.checkpoint = { id: newest[primary], lwt: newest._meta.lwt };
    changes$.next(categorized.eventBulk);
  }
  return { error: [] } as RxStorageBulkWriteResponse<unknown>;
}

/**
 * `instance`'s writes of rows that are all new (RxDB's inserts; the replication's first meta
 * document of a record, pushed or pulled) without the read before them: one `add` each.
 */
function withInsertsUnread<I extends AnyStorageInstance>(instance: I): I {
  const bulkWrite = instance.bulkWrite.bind(instance);
  const primary = getPrimaryFieldOfPrimaryKey(instance.schema.primaryKey) as string;
  return Object.assign(instance, {
    bulkWrite: async (rows: BulkWriteRow<unknown>[], context: string) => {
      if (rows.length > 0 && rows.every((row) => !row.previous)) {
        const written = await insertAll(instance, primary, rows, context);
        if (written) return written;
      }
      return bulkWrite(rows, context);
    },
  });
}

/** `instance`'s reads by id skip ids `known` never saw (`recordOf` maps a document id to its record's; null: always read). */
function withKnownContents<I extends AnyStorageInstance>(instance: I, known: Known, recordOf: (id: string) => string | null): I {
  const findDocumentsById = instance.findDocumentsById.bind(instance);
  const bulkWrite = instance.bulkWrite.bind(instance);
  const primary = getPrimaryFieldOfPrimaryKey(instance.schema.primaryKey) as string;
  return Object.assign(instance, {
    findDocumentsById: (ids: string[], deleted: boolean) => {
      if (!known.on) return findDocumentsById(ids, deleted);
      const maybe = ids.filter((id) => {
        const record = recordOf(id);
        return record === null || known.ids.has(record);
      });
      return maybe.length === 0 ? Promise.resolve([]) : findDocumentsById(maybe, deleted);
    },
    bulkWrite: (rows: BulkWriteRow<unknown>[], context: string) => {
      for (const row of rows) note(known, recordOf(String((row.document as Record<string, unknown>)[primary])));
      return bulkWrite(rows, context);
    },
  });
}

/**
 * The Dexie storage with the records and the replication's meta written without a read before
 * rows that are all new, and, on a database whose records store was empty when it opened (a new
 * device), read by id without the reads that find nothing (see the header). `records` names the
 * records' collection. Other storages and collections are left as they are.
 */
export function withFreshWrites<S extends AnyRxStorage>(storage: S, records: string): S {
  if (!isDexieStorage(storage)) return storage;
  return {
    ...storage,
    async createStorageInstance(params) {
      const instance = await storage.createStorageInstance(params);
      const token = params.databaseInstanceToken;
      if (params.collectionName === records) {
        withInsertsUnread(instance);
        if ((await (await dexieState(instance)).dexieTable.count()) > 0) return instance;
        const known: Known = { ids: new Set(), on: true };
        byDatabase.set(token, known);
        // Every write to the store, this tab's and other tabs' (RxDB broadcasts them).
        const sub = instance.changeStream().subscribe((bulk) => {
          for (const e of bulk.events) note(known, e.documentId);
        });
        const close = instance.close.bind(instance);
        const remove = instance.remove.bind(instance);
        const forget = () => {
          sub.unsubscribe();
          byDatabase.delete(token);
        };
        Object.assign(instance, {
          close: () => (forget(), close()),
          remove: () => (forget(), remove()),
        });
        return withKnownContents(instance, known, (id) => id);
      }
      if (params.schema.title !== META_INSTANCE_SCHEMA_TITLE) return instance;
      withInsertsUnread(instance);
      const known = byDatabase.get(token);
      if (known && (await onlyCheckpoints(instance))) {
        // A record's meta document is only written after the record: an unknown record has none.
        return withKnownContents(instance, known, (id) => (id.endsWith(META_SUFFIX) ? id.slice(0, -META_SUFFIX.length) : null));
      }
      return instance;
    },
  } as S;
}
