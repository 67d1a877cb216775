/**
 * A check on what RxDB's pull writes, in the storage's write itself. It leans on RxDB's
 * downstream writing to the collection with the bulk write context 'replication-downstream-…'
 * and ignoring a 409 on that write without writing meta (downstream.ts in RxDB 17.6), and on
 * RxDB keeping a stored document's `_meta` fields it does not know across its later writes.
 * test/client/pull.test.ts fails if either changes.
 */
import { getPrimaryFieldOfPrimaryKey, type BulkWriteRow, type RxDocumentData, type RxStorageWriteErrorConflict } from 'rxdb';
import { assume, type AnyStorageInstance } from './assumptions';

/** The context of the bulk writes of RxDB's downstream (its pull) to the collection: this, then the replication's checkpoint key. */
const PULL_WRITE_CONTEXT = 'replication-downstream-';

/**
 * The mark in `_meta` of a record that came to this device by a pull (it was new here when RxDB's
 * pull wrote it): a record without it was made here. RxDB keeps no such mark itself: its wrapper
 * of every storage instance gives an inserted document a fresh `_meta` (the `_meta.o` its pull
 * sets is lost on an insert). Set below that wrapper, it is stored, and RxDB's later writes keep
 * it: a local edit merges the previous `_meta` in, a pulled update starts from the stored one.
 */
export const PULLED_MARK = 'semsPulled';

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
