import type { MedicationTotal } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../../test/support/records';
import { toIndexed } from './record-index';
import { countsOf, groupTotals, periodProblem, sortTotals, startOfDay } from './totals';

const at = (h: number) => new Date(Date.parse('2026-12-01T00:00:00.000Z') + h * 3_600_000).toISOString();
const record = (h: number, over: Partial<Dispense>) =>
  toIndexed({ ...makeDispense({ siteId: 's', dispensedBy: 'anna' }), dispensedAt: at(h), ...over });

test('groups by medication code ignoring case and space and by unit, voided apart, the first (newest) record naming each group', () => {
  const newest = record(9, { medicationCode: ' amox500', unit: 'capsule', quantity: 7 });
  const groups = groupTotals([
    newest,
    record(8, { medicationCode: 'AMOX500', unit: 'capsule', quantity: 21 }),
    record(7, { medicationCode: 'AMOX500', unit: 'capsule', quantity: 21, status: 'voided', voidReason: 'x' }),
    record(6, { medicationCode: 'AMOX500', unit: 'tablet', quantity: 10 }),
    record(5, { medicationCode: 'SYR', unit: 'ml', quantity: 0.1 }),
    record(4, { medicationCode: 'SYR', unit: 'ml', quantity: 0.2 }),
    record(3, { medicationCode: 'MET', unit: 'tablet', quantity: 56, status: 'voided', voidReason: 'x' }),
  ]);
  expect(groups).toEqual([
    { newestId: newest.id, unit: 'capsule', dispensed: 2, quantity: 28, voided: 1 },
    expect.objectContaining({ unit: 'tablet', dispensed: 1, quantity: 10, voided: 0 }),
    expect.objectContaining({ unit: 'ml', dispensed: 2, quantity: 0.3, voided: 0 }),
    expect.objectContaining({ unit: 'tablet', dispensed: 0, quantity: 0, voided: 1 }),
  ]);
});

test('rows read by medication name, then code and unit, whatever the case; counts add up', () => {
  const row = (medicationName: string, medicationCode: string, unit: MedicationTotal['unit'], dispensed = 1, voided = 0): MedicationTotal => ({
    medicationName,
    medicationCode,
    unit,
    dispensed,
    quantity: 1,
    voided,
  });
  const rows = [row('paracetamol', 'P', 'tablet'), row('Amoxicillin', 'A', 'tablet', 2, 1), row('amoxicillin', 'A', 'capsule', 3)];
  expect(sortTotals(rows).map((r) => `${r.medicationName} ${r.unit}`)).toEqual(['amoxicillin capsule', 'Amoxicillin tablet', 'paracetamol tablet']);
  expect(countsOf(rows)).toEqual({ dispensed: 6, voided: 1 });
});

test.each<[string, string, string, string | null]>([
  ['a shift', '2026-12-01T06:00:00.000Z', '2026-12-01T14:00:00.000Z', null],
  ['exactly 366 days', '2026-01-01T00:00:00.000Z', '2027-01-02T00:00:00.000Z', null],
  ['over 366 days', '2026-01-01T00:00:00.000Z', '2027-01-02T00:00:00.001Z', 'A period is at most 366 days.'],
  ['the end before the start', '2026-12-01T14:00:00.000Z', '2026-12-01T06:00:00.000Z', 'The end of the period must be after its start.'],
  ['an empty period', '2026-12-01T14:00:00.000Z', '2026-12-01T14:00:00.000Z', 'The end of the period must be after its start.'],
  ['no end', '2026-12-01T14:00:00.000Z', '', 'Enter the start and the end of the period.'],
])('a period: %s', (_what, from, to, problem) => {
  expect(periodProblem(new Date(from), new Date(to))).toBe(problem);
});

test('today starts at local midnight', () => {
  const start = startOfDay(new Date(2026, 11, 1, 15, 42).getTime());
  expect([start.getFullYear(), start.getMonth(), start.getDate(), start.getHours(), start.getMinutes()]).toEqual([2026, 11, 1, 0, 0]);
});
