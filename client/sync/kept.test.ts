import { makeDispense } from '../../test/support/records';
import { keptChanges } from './kept';

test('applying a kept version changes the fields it differs in, clears what it lacks, and never who, where, status or when', () => {
  const server = makeDispense({ siteId: 's', dispensedBy: 'anna', quantity: 25, notes: 'From counter A', updatedAt: '2026-12-07T10:05:00.000Z' });
  const { notes: _none, ...withoutNotes } = server;
  const kept = { ...withoutNotes, quantity: 35, dispensedBy: 'bert', updatedAt: '2026-12-07T10:00:00.000Z' };
  expect(keptChanges(server, kept)).toEqual({ quantity: 35, notes: undefined });
  expect('notes' in keptChanges(server, kept)).toBe(true);
  expect(keptChanges(server, { ...server, updatedAt: '2026-12-07T09:00:00.000Z' })).toEqual({});
});
