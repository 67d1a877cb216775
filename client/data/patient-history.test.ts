import { makeDispense } from '../../test/support/records';
import type { Dispense } from '../../schemas/dispense';
import { mergeHistory, possibleDuplicates } from './patient-history';

const at = (h: number) => new Date(Date.parse('2026-11-30T12:00:00.000Z') + h * 3_600_000).toISOString();
const record = (i: number, over: Partial<Dispense>) => ({ ...(makeDispense({ siteId: 's', dispensedBy: 'anna' }, i) as Dispense), ...over });

describe('possible duplicates', () => {
  const input = { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(0) };
  test.each<[string, Partial<Dispense>, boolean]>([
    ['the same patient and medication an hour before', { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(-1) }, true],
    ['the same, the code in another case', { patientId: 'P-1', medicationCode: 'amox500', dispensedAt: at(-1) }, true],
    [
      'the same, the id in another case and both with spaces around',
      { patientId: ' p-1\t', medicationCode: '\u00a0Amox500 ', dispensedAt: at(-1) },
      true,
    ],
    ['an id with a space inside', { patientId: 'P -1', medicationCode: 'AMOX500', dispensedAt: at(-1) }, false],
    ['at the edge of the window', { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(-24) }, true],
    ['outside the window', { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(-25) }, false],
    ['another medication', { patientId: 'P-1', medicationCode: 'MET500', dispensedAt: at(-1) }, false],
    ['another patient', { patientId: 'P-2', medicationCode: 'AMOX500', dispensedAt: at(-1) }, false],
    ['a voided dispense', { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(-1), status: 'voided', voidReason: 'x' }, false],
    ['one dated later (a back-dated entry now)', { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(3) }, true],
  ])('%s', (_name, over, expected) => {
    expect(possibleDuplicates(input, [record(1, over)], 24)).toHaveLength(expected ? 1 : 0);
  });

  test('typed in lower case with a space after, the input meets the record typed in capitals', () => {
    const typed = { patientId: 'p-1 ', medicationCode: 'amox500', dispensedAt: at(0) };
    expect(possibleDuplicates(typed, [record(1, { patientId: 'P-1', medicationCode: 'AMOX500', dispensedAt: at(-1) })], 24)).toHaveLength(1);
  });
});

test("the device's records and the server's are one list, newest first, each once, the device's version kept", () => {
  const a = record(1, { dispensedAt: at(-1) });
  const b = record(2, { dispensedAt: at(-5) });
  const bOnServer = { ...b, quantity: 1 };
  const c = record(3, { dispensedAt: at(-3) });
  expect(mergeHistory([a, b], [bOnServer, c]).map((d) => [d.externalId, d.quantity])).toEqual([
    [a.externalId, a.quantity],
    [c.externalId, c.quantity],
    [b.externalId, b.quantity],
  ]);
  expect(mergeHistory([a, b], null)).toEqual([a, b]);
});
