import { makeDispense } from '../../test/support/records';
import { markAcked, markLocalWrite, markReconciled, markRejected, markSuperseded } from './marks';

const T = (n: number) => new Date(Date.UTC(2026, 10, 25, 9, 0, n)).toISOString();

test('a record written on the device is pending from that moment until the server confirms that version', () => {
  const written = markLocalWrite(null, T(1), T(1));
  expect(written).toMatchObject({ state: 'pending', localUpdatedAt: T(1), pendingSince: T(1) });
  const synced = markAcked(written, T(1), T(2));
  expect(synced.state).toBe('synced');
  expect(synced.pendingSince).toBeUndefined();
});

test('when a record is edited again before its first version is confirmed, it stays pending since the first change', () => {
  const twice = markLocalWrite(markLocalWrite(null, T(1), T(1)), T(5), T(5));
  const firstConfirmed = markAcked(twice, T(1), T(6));
  expect(firstConfirmed).toMatchObject({ state: 'pending', pendingSince: T(1) });
  expect(markAcked(firstConfirmed, T(5), T(7)).state).toBe('synced');
});

test('a rejected version is set aside with its reason, and an edit makes the record pending again', () => {
  const rejected = markRejected(markLocalWrite(null, T(1), T(1)), T(1), 'invalid_record', 'The record is not valid', T(2));
  expect(rejected).toMatchObject({ state: 'rejected', code: 'invalid_record', reason: 'The record is not valid' });
  expect(rejected.pendingSince).toBeUndefined();
  const edited = markLocalWrite(rejected, T(3), T(3));
  expect(edited).toMatchObject({ state: 'pending', pendingSince: T(3) });
  expect(edited.reason).toBeUndefined();
});

test("when the server's version wins a conflict, the record is synced to it and the device's version is kept", () => {
  const lost = makeDispense({ siteId: 's', dispensedBy: 'u', updatedAt: T(4) });
  const winner = { ...lost, status: 'voided' as const, voidReason: 'Duplicate', updatedAt: T(2) };
  const m = markSuperseded(markLocalWrite(null, T(4), T(4)), lost, winner, T(5));
  expect(m).toMatchObject({ state: 'synced', localUpdatedAt: T(2), ackedUpdatedAt: T(2) });
  expect(JSON.parse(m.superseded!)).toEqual(lost);
  // A newer local write since the push keeps its own state.
  const newer = markLocalWrite(null, T(6), T(6));
  expect(markSuperseded(newer, lost, winner, T(7))).toBe(newer);
});

test('a mark left ahead of its record by a crash follows the stored version', () => {
  const synced = markAcked(markLocalWrite(null, T(1), T(1)), T(1), T(2));
  const crashed = markLocalWrite(synced, T(9), T(9)); // the record's write never happened
  expect(crashed.state).toBe('pending');
  expect(markReconciled(crashed, T(1), T(70)).state).toBe('synced');
});
