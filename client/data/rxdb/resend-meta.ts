/**
 * Sending again what a restored server lost (docs/decisions/resend-after-restore.md): which stored
 * records this device made, and making some of them pending again. It leans on the pulled mark
 * checkPullWrites sets (pull-write-filter.ts), on the Dexie documents' store (dexie-read.ts), and
 * on RxDB's replication meta: a record's "assumed master state" is the meta document '<id>|0'
 * holding it in `docData`, which RxDB's upstream compares a record with before pushing it, and a
 * write through a collection's storage instance with a previous document gets a new `_meta.lwt`.
 */
import { createRevision, getComposedPrimaryKeyOfDocumentData, now, type BulkWriteRow, type MangoQuery, type RxCollection, type RxDocumentData } from 'rxdb';
import type { RxReplicationState } from 'rxdb/plugins/replication';
import { assume, type AnyStorageInstance } from './assumptions';
import { dexieDocsOf, request } from './dexie-read';
import { PULLED_MARK } from './pull-write-filter';

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
        const values = await request<unknown[]>(r.store.getAll(range, limit));
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
