import { makeDispense } from '../../test/support/records';
import { staleDropped } from './pull';

const at = (m: number) => new Date(Date.parse('2026-11-30T10:00:00.000Z') + m * 60_000).toISOString();

test('a pulled version older than the one this device holds is dropped; newer, equal and unknown ones are kept', () => {
  const [older, same, newer, unknown] = [1, 2, 3, 4].map((i) => makeDispense({ siteId: 's', dispensedBy: 'u', updatedAt: at(i) }, i));
  const held = new Map([
    [older.externalId, at(5)], // this device pushed a later version meanwhile
    [same.externalId, at(2)],
    [newer.externalId, at(0)],
  ]);
  expect(staleDropped([older, same, newer, unknown], held)).toEqual([same, newer, unknown]);
});
