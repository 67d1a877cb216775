/**
 * A projection of the device's records in memory, for what RxDB's indexes cannot answer: a
 * patient's records matched ignoring case and surrounding space (the history and the duplicate
 * check), the Find view's search over several fields, and a period's totals. Per record it keeps
 * the match keys of the fields searched and what totals need, newest first; the records stay in
 * IndexedDB and are read by id to be shown (device-index.ts keeps it current).
 * Why a projection: docs/decisions/device-record-index.md.
 */
import type { Dispense, Unit } from '../../schemas/dispense';
import { matchKey } from '../../schemas/match-key';

export interface IndexedRecord {
  id: string;
  /** dispensedAt: canonical ISO text, so text order is time order. */
  at: string;
  /** Match keys (schemas/match-key.ts); '' for an optional field left empty. */
  patientId: string;
  patientName: string;
  medicationCode: string;
  medicationName: string;
  prescriptionRef: string;
  voided: boolean;
  quantity: number;
  unit: Unit;
}

/** What the Find view asks; every part given must match. */
export interface SearchFilter {
  /** Each word in the patient's id or name. */
  patient?: string;
  /** Each word in the medication's code or name. */
  medication?: string;
  /** Each word in the prescription reference. */
  prescription?: string;
  /** Dispensed in [from, to): ISO instants. */
  from?: string;
  to?: string;
  hideVoided?: boolean;
}

export interface SearchAnswer {
  /** How many records match. */
  total: number;
  /** The first `limit` of them, newest first. */
  ids: string[];
}

export function toIndexed(d: Dispense): IndexedRecord {
  return {
    id: d.externalId,
    at: d.dispensedAt,
    patientId: matchKey(d.patientId),
    patientName: matchKey(d.patientName ?? ''),
    medicationCode: matchKey(d.medicationCode),
    medicationName: matchKey(d.medicationName),
    prescriptionRef: matchKey(d.prescriptionRef ?? ''),
    voided: d.status === 'voided',
    quantity: d.quantity,
    unit: d.unit,
  };
}

/** Newest first: dispensedAt, then id, both descending (the recent list's order). */
const newestFirst = (a: IndexedRecord, b: IndexedRecord) => (a.at === b.at ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.at < b.at ? 1 : -1);

/** The words of a query, as keys: 'Noor  HAD' → ['noor', 'had']. */
export function queryWords(query: string | undefined): string[] {
  return query ? matchKey(query).split(/\s+/).filter(Boolean) : [];
}

/** Whether each word is in `a` or in `b` (a plain loop: it runs for each of 100,000 records at a keystroke). */
function holdsEvery(words: string[], a: string, b: string): boolean {
  for (let i = 0; i < words.length; i++) if (!a.includes(words[i]) && !b.includes(words[i])) return false;
  return true;
}

export class RecordIndex {
  private readonly byId = new Map<string, IndexedRecord>();
  private sorted: IndexedRecord[] = [];
  /** Changed since `sorted` was made: it is made again, newest first, at the next read. */
  private stale = false;

  get size(): number {
    return this.byId.size;
  }

  /** Adds records, or replaces the versions held. */
  put(docs: Iterable<Dispense>): void {
    for (const d of docs) this.byId.set(d.externalId, toIndexed(d));
    this.stale = true;
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) this.byId.delete(id);
    this.stale = true;
  }

  /**
   * Every record, newest first. After a change it is sorted again: the map holds records mostly
   * in time order (read oldest first, new ones added at its end), which the sort takes in one pass.
   */
  private list(): IndexedRecord[] {
    if (this.stale) {
      this.sorted = [...this.byId.values()].sort(newestFirst);
      this.stale = false;
    }
    return this.sorted;
  }

  /** The position of the first record dispensed before `at` (the list is newest first). */
  private firstBefore(at: string): number {
    const list = this.list();
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].at < at) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The positions [start, end) of the records dispensed in [from, to). */
  private range(from: string | undefined, to: string | undefined): [number, number] {
    return [to ? this.firstBefore(to) : 0, from ? this.firstBefore(from) : this.list().length];
  }

  /** The records dispensed in [from, to), newest first. */
  between(from: string | undefined, to: string | undefined): IndexedRecord[] {
    return this.list().slice(...this.range(from, to));
  }

  /** The ids of the patient's newest `limit` records, the id matched ignoring case and surrounding space. */
  patientHistory(patientId: string, limit: number): string[] {
    const key = matchKey(patientId);
    const ids: string[] = [];
    for (const r of this.list()) {
      if (r.patientId !== key) continue;
      ids.push(r.id);
      if (ids.length >= limit) break;
    }
    return ids;
  }

  search(filter: SearchFilter, limit: number): SearchAnswer {
    const list = this.list();
    const patient = queryWords(filter.patient);
    const medication = queryWords(filter.medication);
    const prescription = queryWords(filter.prescription);
    const [start, end] = this.range(filter.from, filter.to);
    const ids: string[] = [];
    let total = 0;
    // The checks written out in one loop, no closure per record: it runs over every record of the
    // period at each keystroke.
    for (let i = start; i < end; i++) {
      const r = list[i];
      if (filter.hideVoided && r.voided) continue;
      if (patient.length > 0 && !holdsEvery(patient, r.patientId, r.patientName)) continue;
      if (medication.length > 0 && !holdsEvery(medication, r.medicationCode, r.medicationName)) continue;
      if (prescription.length > 0 && !holdsEvery(prescription, r.prescriptionRef, '')) continue;
      total += 1;
      if (ids.length < limit) ids.push(r.id);
    }
    return { total, ids };
  }
}
