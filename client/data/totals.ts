/**
 * A day's or a shift's totals per medication and unit, as the server counts them
 * (GET /api/dispenses/totals, server/records.ts): dispenses not voided and the quantity they
 * handed out, voided ones counted apart; medication codes grouped by their match key, each group
 * named by its newest record. Here for this device's records, and the period the user picks.
 */
import { MAX_TOTALS_DAYS, type MedicationTotal } from '../../schemas/api';
import type { Unit } from '../../schemas/dispense';
import type { IndexedRecord } from './record-index';

/** One group before it is named: the id of its newest record names it. */
export interface TotalsGroup {
  newestId: string;
  unit: Unit;
  dispensed: number;
  quantity: number;
  voided: number;
}

/**
 * The groups of `records` (newest first, so the first of a group is its newest). Quantities are
 * summed in thousandths, as integers, so 0.1 + 0.2 is 0.3 as on the server (which sums exact decimals).
 */
export function groupTotals(records: Iterable<IndexedRecord>): TotalsGroup[] {
  const groups = new Map<string, TotalsGroup & { thousandths: number }>();
  for (const r of records) {
    const key = `${r.medicationCode}\u0000${r.unit}`; // NUL: no record's text holds it (schemas/dispense.ts)
    let g = groups.get(key);
    if (!g) {
      g = { newestId: r.id, unit: r.unit, dispensed: 0, quantity: 0, voided: 0, thousandths: 0 };
      groups.set(key, g);
    }
    if (r.voided) g.voided += 1;
    else {
      g.dispensed += 1;
      g.thousandths += Math.round(r.quantity * 1000);
    }
  }
  return [...groups.values()].map(({ thousandths, ...g }) => ({ ...g, quantity: thousandths / 1000 }));
}

/** By medication name, then code and unit, as a pharmacist reads a list. */
export function sortTotals(rows: MedicationTotal[]): MedicationTotal[] {
  const byText = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
  return [...rows].sort(
    (a, b) =>
      byText.compare(a.medicationName, b.medicationName) || byText.compare(a.medicationCode, b.medicationCode) || byText.compare(a.unit, b.unit),
  );
}

/** Sums of a table: dispenses and voided ones (quantities are per unit, so not added up). */
export function countsOf(rows: MedicationTotal[]): { dispensed: number; voided: number } {
  return rows.reduce((sum, r) => ({ dispensed: sum.dispensed + r.dispensed, voided: sum.voided + r.voided }), { dispensed: 0, voided: 0 });
}

/** What is wrong with a period, in words, or null. */
export function periodProblem(from: Date, to: Date): string | null {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return 'Enter the start and the end of the period.';
  if (to.getTime() <= from.getTime()) return 'The end of the period must be after its start.';
  if (to.getTime() - from.getTime() > MAX_TOTALS_DAYS * 24 * 3_600_000) return `A period is at most ${MAX_TOTALS_DAYS} days.`;
  return null;
}

/** Local midnight of the day of `now`: the start of "today so far". */
export function startOfDay(now: number): Date {
  const d = new Date(now);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}
