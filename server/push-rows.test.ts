import type { PushRow, User } from '../schemas/api';
import type { Dispense } from '../schemas/dispense';
import { makeDispense } from '../test/support/records';
import type { Rules } from './push-decision';
import { answer, decideRows, parseRows, receive, rowsWhere, stands, takeResent, type PushRows } from './push-rows';

const user: User = { id: 1, username: 'alice', displayName: 'Alice', siteId: 'site-a', role: 'pharmacist' };
const rules: Rules = {
  siteId: 'site-a',
  dispensers: new Set(['alice']),
  serverNowMs: Date.parse('2026-11-26T00:00:00.000Z'),
  clockAheadLimitMs: 600_000,
};
const stored = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 1);
const fresh = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 2);
const row = (doc: unknown, assumed: unknown = null): PushRow => ({ newDocumentState: doc, assumedMasterState: assumed }) as PushRow;
const states = (rows: PushRows) => [...rows.values()].map((s) => (s.at === 'decided' ? `${s.at}:${s.decision.kind}:${s.seen}` : s.at));

describe('the rows of one push, each in its state', () => {
  test('parsing refuses an invalid record, another site, a bad assumed state and a second of one id; the rest is validated', () => {
    const rows = receive([
      row(fresh),
      row({ ...fresh, quantity: 0 }),
      row({ ...stored, siteId: 'site-b' }),
      row(stored, { notes: 'no updatedAt' }),
      row({ ...fresh, notes: 'again' }),
    ]);
    parseRows(rows, user);
    expect(states(rows)).toEqual(['validated', 'rejected', 'rejected', 'rejected', 'rejected']);
    expect(answer(rows).rejected.map((r) => r.code)).toEqual(['invalid_record', 'wrong_site', 'invalid_assumed_state', 'duplicate_in_batch']);
  });

  test('a row equal to its stored record is validated as that record without a parse, and is no duplicate of a later row', () => {
    const rows = receive([row(stored, stored), row({ ...stored, notes: 'changed' }, stored)]);
    takeResent(rows, new Map([[stored.externalId, stored]]));
    expect(rows.get(0)).toEqual({ at: 'validated', candidate: { doc: stored, assumed: null } });
    parseRows(rows, user);
    expect(states(rows)).toEqual(['validated', 'validated']);
  });

  test('a decision on a read stands only when no lock can change it; one taken as new never does; one on the lock always does', () => {
    const edited: Dispense = { ...stored, notes: 'edited', updatedAt: '2026-11-25T10:00:00.000Z' };
    const rows = receive([row(stored, stored), row(edited), row(fresh)]);
    const read = new Map([[stored.externalId, stored]]);
    takeResent(rows, read);
    parseRows(rows, user);
    decideRows(rows, [0, 1], read, 'read', rules);
    decideRows(rows, [2], new Map(), 'absent', rules);
    expect(states(rows)).toEqual(['decided:unchanged:read', 'decided:conflict:read', 'decided:insert:absent']);
    expect(rowsWhere(rows, (s) => !stands(s))).toEqual([1, 2]);
    decideRows(rows, [1], read, 'locked', rules);
    expect(rowsWhere(rows, (s) => !stands(s))).toEqual([2]);
  });

  test('the answer lists conflicts and refusals in the order of the batch', () => {
    const edited: Dispense = { ...stored, notes: 'edited', updatedAt: '2026-11-25T10:00:00.000Z' };
    const rows = receive([row({ ...fresh, quantity: 0 }), row(edited), row({ ...fresh, dispensedBy: 'zed' })]);
    parseRows(rows, user);
    decideRows(rows, [1], new Map([[stored.externalId, stored]]), 'locked', rules);
    decideRows(rows, [2], new Map(), 'locked', rules);
    const { conflicts, rejected } = answer(rows);
    expect(conflicts).toEqual([stored]);
    expect(rejected.map((r) => r.code)).toEqual(['invalid_record', 'unknown_dispenser']);
  });
});
