import { makeDispense } from '../../test/support/records';
import { conflictWinner, dispenseConflictHandler } from './conflict';

const base = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' });
const at = (ms: number) => new Date(Date.parse(base.updatedAt) + ms).toISOString();
const edit = (ms: number) => ({ ...base, notes: `edit ${ms}`, updatedAt: at(ms) });
const voided = (ms: number) => ({ ...base, status: 'voided' as const, voidReason: 'Wrong patient', updatedAt: at(ms) });

test('between two edits, the later updatedAt wins, and a tie goes to the server', () => {
  expect(conflictWinner(edit(2), edit(1))).toBe('local');
  expect(conflictWinner(edit(1), edit(2))).toBe('server');
  expect(conflictWinner(edit(1), { ...edit(1), notes: 'other' })).toBe('server');
});

test('a voided version wins over a later edit, on either side', () => {
  expect(conflictWinner(edit(9), voided(1))).toBe('server');
  expect(conflictWinner(voided(1), edit(9))).toBe('local');
  expect(conflictWinner(voided(2), voided(1))).toBe('local');
});

test("RxDB's handler resolves to the winning version and compares records by value", async () => {
  const local = { ...edit(9), _deleted: false };
  const server = { ...voided(1), _deleted: false };
  await expect(
    dispenseConflictHandler.resolve({ newDocumentState: local, realMasterState: server, assumedMasterState: undefined }, 'test'),
  ).resolves.toBe(server);
  expect(dispenseConflictHandler.isEqual(local, { ...edit(9), _deleted: false }, 'test')).toBe(true);
  expect(dispenseConflictHandler.isEqual(local, server, 'test')).toBe(false);
});
