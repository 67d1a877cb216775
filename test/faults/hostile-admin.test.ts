/**
 * Hostile input on the site admin's routes, like scenario 6 for the push and the reads: fast-check
 * properties against a real server and PostgreSQL. The export's period and the device report's
 * body and header get a CSV of the caller's site, a device answer, or 400 with the error body;
 * never a 5xx, never another site's data, and a refused report writes nothing.
 */
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { deviceReportResponseSchema, devicesResponseSchema } from '../../schemas/devices';
import { call, contractViolation } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';
import { push, pushBody } from '../support/api';
import { anyJson, hostileDate, hostileNumber, hostileString, NASTY_TEXT } from './support/hostile';
import { scaled } from './support/results';

const RUNS = { period: scaled(250), report: scaled(250) };

let server: TestServer;
let admin: string;
let zed: string;

beforeAll(async () => {
  server = await startTestServer();
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  [admin, zed] = await Promise.all(['anna', 'zed'].map(async (u) => (await server.login(u)).token));
  // A record of another site in every period the fuzz may ask for.
  const theirs = makeDispense({
    siteId: 'site-b',
    dispensedBy: 'zed',
    dispensedAt: '2026-11-25T09:00:00.000Z',
    updatedAt: '2026-11-25T09:00:00.000Z',
  });
  expect((await push(server.url, zed, pushBody([theirs]))).status).toBe(200);
});

afterAll(async () => {
  await server?.stop();
});

function encodeHostile(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))}%ED%A0%80%FF`;
  }
}

test("hostile periods on the export get the caller's site's CSV or 400 with the error body, never a 5xx", async () => {
  const bound = fc.oneof(
    hostileDate,
    hostileString.map((v) => v.slice(0, 300)),
    fc.constantFrom(...NASTY_TEXT),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  );
  const extra = fc.constantFrom('', '&from=2026-01-01', '&to[]=x', '&from[__proto__]=1', '&siteId=site-b', '&to=2026-01-01&to=2026-02-01');
  await fc.assert(
    fc.asyncProperty(fc.option(bound, { nil: undefined }), fc.option(bound, { nil: undefined }), extra, async (from, to, more) => {
      const query =
        [from !== undefined && `from=${encodeHostile(from)}`, to !== undefined && `to=${encodeHostile(to)}`].filter(Boolean).join('&') + more;
      const r = await call(server.url, 'GET', `/api/dispenses/export.csv?${query}`, { token: admin });
      const why = contractViolation(r);
      if (why) throw new Error(`${query}: ${why}`);
      expect([200, 400]).toContain(r.status);
      if (r.status === 200) {
        const rows = parse(r.text, { columns: true }) as { siteId: string }[];
        expect(rows.filter((row) => row.siteId !== 'site-a')).toEqual([]);
      }
    }),
    { numRuns: RUNS.period },
  );
});

test('hostile device reports get a device answer or 400 with the error body, never a 5xx, and only valid ones are kept', async () => {
  const figure = fc.oneof(hostileNumber, fc.integer(), anyJson);
  const body = fc.oneof(
    fc.record(
      {
        pendingCount: figure,
        oldestPendingAt: fc.oneof(hostileDate, fc.constant(null), anyJson),
        appVersion: fc.oneof(hostileString, anyJson),
        madeCount: figure,
        deviceTime: fc.oneof(hostileDate, anyJson),
      },
      { requiredKeys: [] },
    ),
    anyJson,
  );
  const deviceId = fc.oneof(
    fc.constantFrom('dev-1', '', ' ', '<script>', 'x'.repeat(65), "'; DROP TABLE devices;--", '../../etc'),
    fc.string({ maxLength: 70 }),
  );
  await fc.assert(
    fc.asyncProperty(body, deviceId, async (b, id) => {
      const headers: Record<string, string> = {};
      if (/^[\x20-\x7e]*$/.test(id)) headers['x-device-id'] = id;
      const r = await call(server.url, 'POST', '/api/sync/devices/report', { token: zed, body: b, headers });
      const why = contractViolation(r);
      if (why) throw new Error(`${JSON.stringify(b)?.slice(0, 200)}: ${why}`);
      if (r.status === 200) expect(deviceReportResponseSchema.safeParse(r.body).success).toBe(true);
      else expect([400, 413]).toContain(r.status);
    }),
    { numRuns: RUNS.report },
  );
  // zed is a pharmacist: the list is the admin's of site-b, which has none; site-a's admin sees none of them.
  const list = await call(server.url, 'GET', '/api/sync/devices', { token: admin });
  expect(devicesResponseSchema.parse(list.body).devices).toEqual([]);
});
