/**
 * The record index (record-index.ts) of a local database: built once, on first use, from one
 * read of IndexedDB, then kept current from the collection's change stream (writes of this tab,
 * of the other tabs, and of pulls). And what it answers, as records read by id: a patient's
 * history, a search, a period's totals.
 */
import { Subject, type Observable } from 'rxjs';
import type { RxStorageChangeEvent } from 'rxdb';
import type { MedicationTotal } from '../schemas/api';
import type { Dispense } from '../schemas/dispense';
import type { DispenseCollection, DispenseDatabase } from './db';
import { readAll } from './index-read';
import { RecordIndex } from './record-index';
import { groupTotals } from './totals';

export interface LiveIndex {
  index: RecordIndex;
  /** After each change the index took in. */
  changed$: Observable<void>;
}

const built = new WeakMap<DispenseCollection, Promise<LiveIndex>>();

function apply(index: RecordIndex, events: RxStorageChangeEvent<Dispense>[]): void {
  for (const e of events) {
    if (e.operation === 'DELETE' || e.documentData._deleted) index.remove([e.documentId]);
    else index.put([e.documentData]);
  }
}

async function build(collection: DispenseCollection): Promise<LiveIndex> {
  const index = new RecordIndex();
  const changed = new Subject<void>();
  // Listening before the read: a write during it is taken in after it, in order (a write the
  // read already saw is put again, the same).
  let early: RxStorageChangeEvent<Dispense>[][] | null = [];
  const sub = collection.eventBulks$.subscribe((bulk) => {
    if (early) early.push(bulk.events);
    else {
      apply(index, bulk.events);
      changed.next();
    }
  });
  try {
    index.put(await readAll(collection, { selector: {}, sort: [{ dispensedAt: 'asc' }, { externalId: 'asc' }] }));
  } catch (err) {
    sub.unsubscribe();
    throw err;
  }
  for (const events of early) apply(index, events);
  early = null;
  collection.onClose.push(() => {
    sub.unsubscribe();
    changed.complete();
  });
  return { index, changed$: changed.asObservable() };
}

/** The database's index, built at the first call (a failed build is tried again at the next). */
export function deviceIndexOf(db: DispenseDatabase): Promise<LiveIndex> {
  const collection = db.dispenses;
  let live = built.get(collection);
  if (!live) {
    live = build(collection);
    built.set(collection, live);
    live.catch(() => built.delete(collection));
  }
  return live;
}

/** The records of `ids`, in that order, as stored. */
export async function recordsOf(db: DispenseDatabase, ids: string[]): Promise<Dispense[]> {
  if (ids.length === 0) return [];
  const found = await db.dispenses.findByIds(ids).exec();
  return ids.flatMap((id) => {
    const doc = found.get(id);
    return doc ? [doc.toJSON() as Dispense] : [];
  });
}

/** The patient's newest `limit` records on this device, the id matched ignoring case and surrounding space. */
export async function patientRecords(db: DispenseDatabase, patientId: string, limit: number): Promise<Dispense[]> {
  const { index } = await deviceIndexOf(db);
  return recordsOf(db, index.patientHistory(patientId, limit));
}

/** This device's totals of the records dispensed in [from, to), each group named by its newest record. */
export async function deviceTotals(db: DispenseDatabase, index: RecordIndex, from: string, to: string): Promise<MedicationTotal[]> {
  const groups = groupTotals(index.between(from, to));
  const named = new Map(
    (
      await recordsOf(
        db,
        groups.map((g) => g.newestId),
      )
    ).map((d) => [d.externalId, d]),
  );
  return groups.flatMap(({ newestId, ...g }) => {
    const d = named.get(newestId);
    return d ? [{ medicationCode: d.medicationCode, medicationName: d.medicationName, ...g }] : [];
  });
}
