/**
 * What a new version of a dispense must hold beyond its shape: sane bounds, and quantities a
 * pharmacist can hand out. Checked on the device before a save and by the server's push, on the
 * fields a version sets or changes only, so a record stored before these rules (or pulled from
 * the server) stays readable, voidable and correctable: only what someone types now is judged.
 */
import type { Dispense, Unit } from './dispense';

/** The earliest dispense time accepted: anything before is a typo (1990 for 2026, 0001 for 2001). */
export const EARLIEST_DISPENSED_AT = '2000-01-01T00:00:00.000Z';
/** An expiry more than this many years after the dispense date is a typo (9999-12-31). */
export const MAX_SHELF_LIFE_YEARS = 10;

/**
 * The smallest amount a unit is handed out in: a tablet may be split in quarters (scored
 * tablets), the other counted units go whole; null for measured units, which take at most
 * three decimals (0.125 ml is a real dose, 0.0001 ml is not).
 */
export const UNIT_STEP: Record<Unit, number | null> = {
  tablet: 0.25,
  capsule: 1,
  unit: 1,
  dose: 1,
  drop: 1,
  puff: 1,
  patch: 1,
  sachet: 1,
  vial: 1,
  ampoule: 1,
  pack: 1,
  ml: null,
  g: null,
  mg: null,
};
const MEASURED_DECIMALS = 3;

export interface EntryIssue {
  path: [keyof Dispense];
  message: string;
}

const isWhole = (n: number) => Math.abs(n - Math.round(n)) < 1e-9;

/** Why a quantity cannot be handed out in this unit, or null. */
export function quantityIssue(quantity: number, unit: Unit): string | null {
  const step = UNIT_STEP[unit];
  if (step === null) {
    return isWhole(quantity * 10 ** MEASURED_DECIMALS) ? null : `Quantity in ${unit} takes at most ${MEASURED_DECIMALS} decimals`;
  }
  if (isWhole(quantity / step)) return null;
  return step === 1
    ? `Counted in whole ${unit === 'patch' ? 'patches' : `${unit}s`}: enter a whole number`
    : 'Tablets go in quarters at the smallest (0.25, 0.5, 0.75, 1…)';
}

/** The date `years` after an ISO date or instant's date, as YYYY-MM-DD. */
function yearsAfter(isoDate: string, years: number): string {
  return `${String(Number(isoDate.slice(0, 4)) + years).padStart(4, '0')}${isoDate.slice(4, 10)}`;
}

/**
 * The issues of `next` as a new version of `previous` (none: a new record, every field is new).
 * `next` must already have parsed with the record schema.
 */
export function entryIssues(next: Dispense, previous?: Dispense): EntryIssue[] {
  const changed = (f: keyof Dispense) => !previous || (previous[f] ?? null) !== (next[f] ?? null);
  const issues: EntryIssue[] = [];
  if (changed('dispensedAt') && next.dispensedAt < EARLIEST_DISPENSED_AT) {
    issues.push({ path: ['dispensedAt'], message: 'Dispensed at must be in the year 2000 or later: check the year' });
  }
  if ((changed('quantity') || changed('unit')) && next.unit) {
    const issue = quantityIssue(next.quantity, next.unit);
    if (issue) issues.push({ path: ['quantity'], message: issue });
  }
  if (next.expiryDate && (changed('expiryDate') || changed('dispensedAt'))) {
    if (next.expiryDate > yearsAfter(next.dispensedAt, MAX_SHELF_LIFE_YEARS)) {
      issues.push({
        path: ['expiryDate'],
        message: `Expiry date is more than ${MAX_SHELF_LIFE_YEARS} years after the dispense date: check the year`,
      });
    }
  }
  return issues;
}
