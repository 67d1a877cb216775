/**
 * The record index (record-index.ts) of a local database: built once, on first use, from a read
 * of every record in IndexedDB, then kept current from the collection's change stream (writes of
 * this tab, of the other tabs, and of pulls). And what it answers, as records read by id: a
 * patient's history, a search, a period's totals.
 */
import { Subject, type Observable } from 'rxjs';
import type { RxStorageChangeEvent } from 'rxdb';
import type { MedicationTotal } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseCollection, DispenseDatabase } from './db';
import { readAll, readByIds } from './rxdb';
import { RecordIndex } from './record-index';
import { groupTotals } from './totals';

export interface LiveIndex {
  index: RecordIndex;
  /** After each change the index took in. */
  changed$: Observable<void>;
  /** The records of `ids`, in that order, as stored (recently read ones from memory). */
  records: (ids: string[]) => Promise<Dispense[]>;
}

const built = new WeakMap<DispenseCollection, Promise<LiveIndex>>();

/** How many records read by id are kept in memory: a search's pages repeat as it is typed. */
const KEPT = 5000;

/** Records read by id, the last few thousand kept until they change. */
function recordReader(collection: DispenseCollection) {
  const kept = new Map<string, Dispense>();
  // Moves at every change: a read that a change overtook is shown, not kept.
  let epoch = 0;
  return {
    forget(ids: string[]): void {
      epoch += 1;
      for (const id of ids) kept.delete(id);
    },
    async read(ids: string[]): Promise<Dispense[]> {
      const missing = ids.filter((id) => !kept.has(id));
      const fresh = new Map<string, Dispense>();
      if (missing.length > 0) {
        const at = epoch;
        // The storage's own read by id: no RxDocuments are made for a page that may be gone at the next keystroke.
        for (const d of await readByIds(collection, missing)) fresh.set(d.externalId, d);
        if (at === epoch) {
          if (kept.size + fresh.size > KEPT) kept.clear();
          for (const [id, d] of fresh) kept.set(id, d);
        }
      }
      return ids.flatMap((id) => {
        const d = fresh.get(id) ?? kept.get(id);
        return d ? [d] : [];
      });
    },
  };
}

function apply(index: RecordIndex, reader: ReturnType<typeof recordReader>, events: RxStorageChangeEvent<Dispense>[]): void {
  reader.forget(events.map((e) => e.documentId));
  for (const e of events) {
    if (e.operation === 'DELETE' || e.documentData._deleted) index.remove([e.documentId]);
    else index.put([e.documentData]);
  }
}

async function build(collection: DispenseCollection): Promise<LiveIndex> {
  const index = new RecordIndex();
  const reader = recordReader(collection);
  const changed = new Subject<void>();
  // Listening before the read: a write during it is taken in after it, in order (a write the
  // read already saw is put again, the same).
  let early: RxStorageChangeEvent<Dispense>[][] | null = [];
  const sub = collection.eventBulks$.subscribe((bulk) => {
    if (early) early.push(bulk.events);
    else {
      apply(index, reader, bulk.events);
      changed.next();
    }
  });
  try {
    // One request, in time order (the dispensedAt index). Read in pages of 10,000 by id
    // instead, the index answered each keystroke later at 100,000 records, for a read no faster
    // (bench part 8, three runs each taking turns: p50 18-24 ms against 10-13; cause not found).
    index.put(await readAll(collection, { selector: {}, sort: [{ dispensedAt: 'asc' }, { externalId: 'asc' }] }));
  } catch (err) {
    sub.unsubscribe();
    throw err;
  }
  for (const events of early) apply(index, reader, events);
  early = null;
  collection.onClose.push(() => {
    sub.unsubscribe();
    changed.complete();
  });
  return { index, changed$: changed.asObservable(), records: reader.read };
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
  return ids.length === 0 ? [] : (await deviceIndexOf(db)).records(ids);
}

/** The patient's newest `limit` records on this device, the id matched ignoring case and surrounding space. */
export async function patientRecords(db: DispenseDatabase, patientId: string, limit: number): Promise<Dispense[]> {
  const { index, records } = await deviceIndexOf(db);
  return records(index.patientHistory(patientId, limit));
}

/** This device's totals of the records dispensed in [from, to), each group named by its newest record. */
export async function deviceTotals(db: DispenseDatabase, index: RecordIndex, from: string, to: string): Promise<MedicationTotal[]> {
  const groups = groupTotals(index.between(from, to));
  const newestIds = groups.map((g) => g.newestId);
  const named = new Map((await recordsOf(db, newestIds)).map((d) => [d.externalId, d]));
  return groups.flatMap(({ newestId, ...g }) => {
    const d = named.get(newestId);
    return d ? [{ medicationCode: d.medicationCode, medicationName: d.medicationName, ...g }] : [];
  });
}
