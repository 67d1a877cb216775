import { makeDispense } from '../../test/support/records';
import { pulledIsStale } from './stale-pulls';

const at = (m: number) => new Date(Date.parse('2026-11-30T10:00:00.000Z') + m * 60_000).toISOString();
const version = (updatedAt: string, status: 'dispensed' | 'voided' = 'dispensed') => ({
  ...makeDispense({ siteId: 's', dispensedBy: 'u' }, 1),
  updatedAt,
  status,
});

test.each([
  ['an older edit over a newer one', version(at(5)), version(at(1)), true],
  ['the same version', version(at(2)), version(at(2)), false],
  ['a newer edit', version(at(0)), version(at(3)), false],
  ['an edit over a void, even a later one', version(at(1), 'voided'), version(at(9)), true],
  ['a void over an edit, even an earlier one', version(at(9)), version(at(1), 'voided'), false],
])('pulled %s: stale %s', (_what, stored, pulled, stale) => {
  expect(pulledIsStale(stored, pulled)).toBe(stale);
});
