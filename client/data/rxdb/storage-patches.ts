/**
 * RxDB's Dexie storage with the replication's changes read in one request, and change events
 * that name a checkpoint in push order. It leans on RxDB 17's getChangedDocumentsSince helper
 * calling a storage instance's own method of that name when it has one (the Dexie storage has
 * none: it walks the index by cursor), on the shape of its `{ documents, checkpoint }` answer,
 * and on the storage instance's changeStream() and its bulk `checkpoint`, which a live
 * replication's upstream stores. test/client/records.test.ts holds the patched read against
 * RxDB's own.
 */
import { map } from 'rxjs';
import { getPrimaryFieldOfPrimaryKey, META_INSTANCE_SCHEMA_TITLE, type RxDocumentData } from 'rxdb';
import { assume, isDexieStorage, type AnyRxStorage, type AnyStorageInstance } from './assumptions';
import { docsOfInstance, indexOf, request, type DexieDocs } from './dexie-read';
import { changesIndexName } from './names';
import { rangeAfter, type ChangesCheckpoint } from './push-order';

/**
 * Gives a Dexie storage instance a `getChangedDocumentsSince` (what the replication calls for its
 * next batch): `read`, which gets the instance's documents store.
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

/**
 * RxDB's Dexie storage with the replication's changes read in one request. RxDB asks for the next
 * batch of changes since its checkpoint (the `_meta.lwt` + primary key index, from a point on, up
 * to `limit`); without this the Dexie storage walks that index one cursor step per document, a
 * round trip to the browser's storage each. Here the same range of the same index is one getAll.
 * Its change events name the last of their documents in that order as their checkpoint
 * (orderedChangeCheckpoints). Everything else is the Dexie storage itself; other storages are
 * returned as they are. It patches the Dexie storage's own instances: db.ts applies it below
 * RxDB's wrappers (dev-mode's validation), whose instances already have a getChangedDocumentsSince
 * key, so on a wrapped storage replaceChangesRead's check fails loudly.
 */
export function withIndexReads<S extends AnyRxStorage>(storage: S): S {
  if (!isDexieStorage(storage)) return storage;
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

/**
 * The replication's meta storage (RxDB's assumed server state of each record it pushed or pulled,
 * and its checkpoints) without RxDB's cross-tab broadcast. RxDB opens it with the database's
 * `multiInstance` and then posts every meta write to the other tabs (a structured clone of each
 * meta document, record included, which every other tab decodes and drops: only the replicating
 * tab opens the meta storage, and reads it from IndexedDB when it takes over). The leader's own
 * change events stay (watchPushCheckpoint reads them). A CDP profile of a push of 5,000 records
 * had the broadcast at about 8 ms of the page's 169 ms per 1000 (docs/benchmarks.md). It leans on
 * RxDB naming the meta storage's schema META_INSTANCE_SCHEMA_TITLE.
 */
export function withLocalReplicationMeta<S extends AnyRxStorage>(storage: S): S {
  return {
    ...storage,
    createStorageInstance(params) {
      if (params.schema.title !== META_INSTANCE_SCHEMA_TITLE) return storage.createStorageInstance(params);
      return storage.createStorageInstance({ ...params, multiInstance: false });
    },
  } as S;
}
