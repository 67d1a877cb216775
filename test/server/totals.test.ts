/**
 * GET /api/dispenses/totals on a real server and PostgreSQL with real tokens: a site's totals per
 * medication and unit for a period, voided dispenses counted apart, other sites and other times
 * left out, and bad periods refused with the API's error body.
 */
import { dispenseTotalsSchema, type MedicationTotal } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { call, expectError, push, pushBody } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let alice: string; // site-a pharmacist
let anna: string; // site-a admin
let zed: string; // site-b pharmacist

const FROM = '2026-12-01T06:00:00.000Z';
const TO = '2026-12-01T18:00:00.000Z';
const at = (iso: string, over: Partial<Dispense>, site = 'site-a'): Dispense => ({
  ...makeDispense({ siteId: site, dispensedBy: site === 'site-a' ? 'alice' : 'zed' }),
  dispensedAt: iso,
  updatedAt: iso,
  ...over,
});
const amox = { medicationCode: 'AMOX500', medicationName: 'Amoxicillin 500 mg capsules', unit: 'capsule' as const };
const syrup = { medicationCode: 'PARA-SYR', medicationName: 'Paracetamol oral suspension', unit: 'ml' as const };

beforeAll(async () => {
  server = await startTestServer();
  await seedUsers(server.db, [
    { username: 'alice', siteId: 'site-a' },
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  [alice, anna, zed] = await Promise.all(['alice', 'anna', 'zed'].map(async (u) => (await server.login(u)).token));
  const records: Dispense[] = [
    // In the period: amoxicillin three times (the code typed in three ways; the newest names the row), one voided.
    at(FROM, { ...amox, quantity: 21 }),
    at('2026-12-01T09:00:00.000Z', { ...amox, medicationCode: 'amox500 ', quantity: 14 }),
    at('2026-12-01T12:00:00.000Z', { ...amox, medicationCode: ' Amox500', medicationName: 'Amoxicillin 500mg caps', quantity: 7 }),
    at('2026-12-01T10:00:00.000Z', { ...amox, quantity: 21, status: 'voided', voidReason: 'Wrong patient' }),
    // The same code counted in tablets is another row; a syrup in ml whose sum is exact to the thousandth.
    at('2026-12-01T11:00:00.000Z', { ...amox, unit: 'tablet', quantity: 10 }),
    at('2026-12-01T13:00:00.000Z', { ...syrup, quantity: 0.1 }),
    at('2026-12-01T14:00:00.000Z', { ...syrup, quantity: 0.2 }),
    at('2026-12-01T15:00:00.000Z', { ...syrup, quantity: 2.5 }),
    // Only voided in the period.
    at('2026-12-01T16:00:00.000Z', {
      medicationCode: 'MET500',
      medicationName: 'Metformin 500 mg tablets',
      unit: 'tablet',
      quantity: 56,
      status: 'voided',
      voidReason: 'Duplicate',
    }),
    // Outside the period: a millisecond before its start, and at its end (the end is not included).
    at('2026-12-01T05:59:59.999Z', { ...amox, quantity: 1000 }),
    at(TO, { ...amox, quantity: 1000 }),
  ];
  expect((await push(server.url, alice, pushBody(records))).body).toEqual({ conflicts: [], rejected: [] });
  // Another site's amoxicillin in the same period.
  expect((await push(server.url, zed, pushBody([at('2026-12-01T12:00:00.000Z', { ...amox, quantity: 500 }, 'site-b')]))).status).toBe(200);
});

afterAll(async () => {
  await server?.stop();
});

const totals = (token: string, from: string, to: string) =>
  call(server.url, 'GET', `/api/dispenses/totals?${new URLSearchParams({ from, to })}`, { token });

const byRow = (a: MedicationTotal, b: MedicationTotal) => a.medicationCode.localeCompare(b.medicationCode) || a.unit.localeCompare(b.unit);

describe('GET /api/dispenses/totals', () => {
  test("a pharmacist gets the site's totals of the period per medication and unit, voided apart, the newest record naming each", async () => {
    const res = await totals(alice, FROM, TO);
    expect(res.status).toBe(200);
    const body = dispenseTotalsSchema.parse(res.body);
    expect(body.from).toBe(FROM);
    expect(body.to).toBe(TO);
    const expected: MedicationTotal[] = [
      { medicationCode: ' Amox500', medicationName: 'Amoxicillin 500mg caps', unit: 'capsule', dispensed: 3, quantity: 42, voided: 1 },
      { medicationCode: 'AMOX500', medicationName: 'Amoxicillin 500 mg capsules', unit: 'tablet', dispensed: 1, quantity: 10, voided: 0 },
      { medicationCode: 'MET500', medicationName: 'Metformin 500 mg tablets', unit: 'tablet', dispensed: 0, quantity: 0, voided: 1 },
      { medicationCode: 'PARA-SYR', medicationName: 'Paracetamol oral suspension', unit: 'ml', dispensed: 3, quantity: 2.8, voided: 0 },
    ];
    expect([...body.totals].sort(byRow)).toEqual(expected.sort(byRow));
  });

  test("the site's admin gets the same numbers; another site's user gets only that site's", async () => {
    expect((await totals(anna, FROM, TO)).body).toEqual((await totals(alice, FROM, TO)).body);
    expect(dispenseTotalsSchema.parse((await totals(zed, FROM, TO)).body).totals).toEqual([
      { medicationCode: 'AMOX500', medicationName: 'Amoxicillin 500 mg capsules', unit: 'capsule', dispensed: 1, quantity: 500, voided: 0 },
    ]);
  });

  test('a period with no dispenses has no rows', async () => {
    expect((await totals(alice, '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z')).body).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-01-02T00:00:00.000Z',
      totals: [],
    });
  });

  test('a period of exactly 366 days is answered', async () => {
    expect((await totals(alice, '2026-01-01T00:00:00.000Z', '2027-01-02T00:00:00.000Z')).status).toBe(200);
  });

  test('without a token it is 401', async () => {
    expectError(await call(server.url, 'GET', `/api/dispenses/totals?from=${FROM}&to=${TO}`), 401, 'token_missing');
  });

  test.each([
    ['the end before the start', `from=${TO}&to=${FROM}`],
    ['an empty period', `from=${FROM}&to=${FROM}`],
    ['a period over 366 days', 'from=2026-01-01T00:00:00.000Z&to=2027-01-02T00:00:00.001Z'],
    ['no end', `from=${FROM}`],
    ['no period', ''],
    ['a day, not an instant', 'from=2026-12-01&to=2026-12-02'],
    ['an instant with an offset', 'from=2026-12-01T06:00:00.000%2B01:00&to=2026-12-01T18:00:00.000Z'],
    ['an instant without milliseconds', 'from=2026-12-01T06:00:00Z&to=2026-12-01T18:00:00Z'],
    ['a date that does not exist', 'from=2026-02-30T00:00:00.000Z&to=2026-03-02T00:00:00.000Z'],
    ['two starts', `from=${FROM}&from=${FROM}&to=${TO}`],
  ])('%s is 400 invalid_request with the issues', async (_what, query) => {
    const res = await call(server.url, 'GET', `/api/dispenses/totals?${query}`, { token: alice });
    expectError(res, 400, 'invalid_request');
    expect(res.body.error.issues.length).toBeGreaterThan(0);
  });
});
