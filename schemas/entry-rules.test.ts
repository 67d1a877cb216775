import { makeDispense } from '../test/support/records';
import type { Dispense } from './dispense';
import { entryIssues, quantityIssue } from './entry-rules';

const base = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' });
const messages = (next: Dispense, previous?: Dispense) => entryIssues(next, previous).map((i) => `${i.path[0]}: ${i.message}`);

describe('entryIssues: what a new version may hold', () => {
  test.each([
    [
      'a dispense in 1990 is refused as a wrong year',
      { dispensedAt: '1990-01-01T10:00:00.000Z', expiryDate: undefined },
      /^dispensedAt: .*year 2000 or later/,
    ],
    ['a dispense in year 0001 is refused', { dispensedAt: '0001-01-01T10:00:00.000Z', expiryDate: undefined }, /^dispensedAt: /],
    ['an expiry of 9999-12-31 is refused as more than 10 years after the dispense', { expiryDate: '9999-12-31' }, /^expiryDate: .*10 years/],
    ['0.0001 tablet is refused: tablets go in quarters', { quantity: 0.0001, unit: 'tablet' }, /^quantity: Tablets go in quarters/],
    ['1.5 capsules are refused: capsules are whole', { quantity: 1.5, unit: 'capsule' }, /^quantity: Counted in whole capsules/],
    ['1.5 patches are refused in words a pharmacist reads', { quantity: 1.5, unit: 'patch' }, /whole patches/],
    ['2.0005 ml is refused: at most 3 decimals', { quantity: 2.0005, unit: 'ml' }, /^quantity: .*at most 3 decimals/],
  ] as const)('%s', (_situation, change, expected) => {
    const found = messages({ ...base, ...change } as Dispense);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  test.each([
    ['half a tablet', 0.5, 'tablet'],
    ['a quarter tablet', 0.25, 'tablet'],
    ['2.125 ml', 2.125, 'ml'],
    ['0.1 + 0.2 mg (a float sum)', 0.1 + 0.2, 'mg'],
    ['100000 units', 100000, 'unit'],
  ] as const)('%s can be handed out', (_situation, quantity, unit) => {
    expect(quantityIssue(quantity, unit)).toBeNull();
  });

  test('an expiry exactly 10 years after the dispense date is accepted, a day later is not', () => {
    expect(messages({ ...base, dispensedAt: '2026-11-25T09:00:00.000Z', expiryDate: '2036-11-25' })).toEqual([]);
    expect(messages({ ...base, dispensedAt: '2026-11-25T09:00:00.000Z', expiryDate: '2036-11-26' })).toHaveLength(1);
  });

  test('a stored record made before the rules can be voided or have its notes edited: unchanged fields are not judged', () => {
    const legacy = { ...base, dispensedAt: '1990-01-01T10:00:00.000Z', quantity: 0.0001, unit: 'tablet' as const, expiryDate: '9999-12-31' };
    expect(messages({ ...legacy, status: 'voided', voidReason: 'Typed in error' }, legacy)).toEqual([]);
    expect(messages({ ...legacy, notes: 'checked' }, legacy)).toEqual([]);
  });

  test('a changed field is judged: correcting the unit of an odd quantity still needs a quantity that fits it', () => {
    const legacy = { ...base, quantity: 1.5, unit: 'ml' as const };
    expect(messages({ ...legacy, unit: 'capsule' }, legacy)).toEqual([expect.stringMatching(/^quantity: Counted in whole capsules/)]);
    expect(messages({ ...legacy, unit: 'capsule', quantity: 2 }, legacy)).toEqual([]);
  });
});
