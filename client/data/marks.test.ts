import { makeDispense } from '../../test/support/records';
import { markMigrations, markRejected, markSuperseded } from './marks';
import { isAfter } from './rxdb';

const T = (n: number) => new Date(Date.UTC(2026, 10, 25, 9, 0, n)).toISOString();

test('a refused version is set aside with its reason; a lost conflict it had is kept', () => {
  const rejected = markRejected(null, 'id-1', T(1), 'invalid_record', 'The record is not valid', T(2));
  expect(rejected).toEqual({
    externalId: 'id-1',
    state: 'rejected',
    localUpdatedAt: T(1),
    rejectedUpdatedAt: T(1),
    code: 'invalid_record',
    reason: 'The record is not valid',
    markedAt: T(2),
  });
  const again = markRejected({ ...rejected, superseded: '{"x":1}' }, 'id-1', T(3), 'invalid_record', 'x'.repeat(3000), T(4));
  expect(again).toMatchObject({ localUpdatedAt: T(3), rejectedUpdatedAt: T(3), superseded: '{"x":1}' });
  expect(again.reason).toHaveLength(2000);
});

test("when the server's version wins a conflict, the record follows it and the device's version is kept", () => {
  const lost = makeDispense({ siteId: 's', dispensedBy: 'u', updatedAt: T(4) });
  const winner = { ...lost, status: 'voided' as const, voidReason: 'Duplicate', updatedAt: T(2) };
  const m = markSuperseded(lost, winner, T(5));
  expect(m).toMatchObject({ externalId: lost.externalId, state: 'superseded', localUpdatedAt: T(2) });
  expect(JSON.parse(m.superseded!)).toEqual(lost);
});

test('a record is pending while it is after the push checkpoint in push order (last write time, then id)', () => {
  const cp = { lwt: 1000.5, id: 'b' };
  expect(isAfter(null, 1, 'a')).toBe(true);
  expect(isAfter(cp, 1000.6, 'a')).toBe(true);
  expect(isAfter(cp, 1000.5, 'c')).toBe(true);
  expect(isAfter(cp, 1000.5, 'b')).toBe(false);
  expect(isAfter(cp, 1000.5, 'a')).toBe(false);
  expect(isAfter(cp, 999, 'z')).toBe(false);
});

test("an earlier build's marks: pending and plain confirmed ones go, a kept lost version stays as superseded, refusals stay", () => {
  const migrate = markMigrations[1] as (old: Record<string, unknown>) => unknown;
  const base = { externalId: 'x', localUpdatedAt: T(1), markedAt: T(2) };
  expect(migrate({ ...base, state: 'pending', pendingSince: T(0) })).toBeNull();
  expect(migrate({ ...base, state: 'synced', ackedUpdatedAt: T(1) })).toBeNull();
  expect(migrate({ ...base, state: 'synced', ackedUpdatedAt: T(1), superseded: '{}' })).toEqual({ ...base, state: 'superseded', superseded: '{}' });
  expect(migrate({ ...base, state: 'rejected', rejectedUpdatedAt: T(1), code: 'c', reason: 'r', pendingSince: T(0) })).toEqual({
    ...base,
    state: 'rejected',
    rejectedUpdatedAt: T(1),
    code: 'c',
    reason: 'r',
  });
});
