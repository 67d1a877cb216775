/**
 * The site admin's routes on a real server and PostgreSQL: devices and proof of delivery, the
 * export, and who may read them. Pharmacists get 403, another site's admin sees nothing of this
 * site, the CSV parses back to exactly the stored rows, and instants ahead of the server's clock
 * are refused.
 */
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { dispenseDetailSchema } from '../../schemas/api';
import { devicesResponseSchema, type Device } from '../../schemas/devices';
import { DISPENSE_FIELDS, type Dispense } from '../../schemas/dispense';
import { csvCell } from '../../server/export';
import { call, expectError, push, pushBody } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let sql: pg.Pool;
let admin: string; // site-a
let alice: string; // site-a pharmacist
let otherAdmin: string; // site-b
let zed: string; // site-b pharmacist

const ADMIN_ROUTES = ['/api/sync/devices', '/api/dispenses/export.csv?from=2026-01-01&to=2026-12-31'];

beforeAll(async () => {
  server = await startTestServer();
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'alice', siteId: 'site-a' },
    { username: 'bert', siteId: 'site-b', role: 'admin' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  [admin, alice, otherAdmin, zed] = await Promise.all(['anna', 'alice', 'bert', 'zed'].map(async (u) => (await server.login(u)).token));
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const report = (token: string, deviceId: string, figures: Partial<Record<string, unknown>> = {}) =>
  call(server.url, 'POST', '/api/sync/devices/report', {
    token,
    headers: { 'x-device-id': deviceId },
    body: { pendingCount: 0, oldestPendingAt: null, appVersion: '0.1.0', madeCount: 0, deviceTime: new Date().toISOString(), ...figures },
  });

async function devices(token = admin): Promise<Device[]> {
  const r = await call(server.url, 'GET', '/api/sync/devices', { token });
  expect(r.status).toBe(200);
  return devicesResponseSchema.parse(r.body).devices;
}

describe('roles', () => {
  test.each(ADMIN_ROUTES)('a pharmacist gets 403 with the error body on %s', async (route) => {
    expectError(await call(server.url, 'GET', route, { token: alice }), 403, 'forbidden');
    expectError(await call(server.url, 'GET', route, { token: zed }), 403, 'forbidden');
  });

  test.each(ADMIN_ROUTES)('without a token %s is 401', async (route) => {
    expectError(await call(server.url, 'GET', route), 401, 'token_missing');
  });
});

describe('devices and proof of delivery', () => {
  const delivered = `dev-delivered-${randomUUID()}`;
  const holding = `dev-holding-${randomUUID()}`;
  const stale = `dev-stale-${randomUUID()}`;

  beforeAll(async () => {
    const mine = [0, 1].map((i) => makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, i));
    expect((await push(server.url, alice, pushBody(mine), { headers: { 'x-device-id': delivered } })).status).toBe(200);
    expect((await report(alice, delivered, { madeCount: 2 })).status).toBe(200);
    // Made 3: 1 sent, 1 pending, 1 not counted anywhere yet.
    const sent = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 5);
    expect((await push(server.url, alice, pushBody([sent]), { headers: { 'x-device-id': holding } })).status).toBe(200);
    const oldest = new Date(Date.now() - 3600_000).toISOString();
    expect((await report(admin, holding, { madeCount: 2, pendingCount: 1, oldestPendingAt: oldest })).status).toBe(200);
    expect((await report(alice, stale, { madeCount: 4, pendingCount: 4, oldestPendingAt: oldest })).status).toBe(200);
    await sql.query("UPDATE devices SET last_seen_at = now() - interval '2 days', reported_at = now() - interval '2 days' WHERE device_id = $1", [
      stale,
    ]);
  });

  test('the list says which device delivered everything, which holds records, and flags the stale one first', async () => {
    const list = await devices();
    const byId = new Map(list.map((d) => [d.deviceId, d]));
    expect(byId.get(delivered)).toMatchObject({
      lastUser: 'alice',
      madeCount: 2,
      serverHolds: 2,
      pendingCount: 0,
      allDelivered: true,
      flagged: false,
    });
    expect(byId.get(delivered)!.lastPushAt).not.toBeNull();
    expect(byId.get(holding)).toMatchObject({ lastUser: 'anna', madeCount: 2, serverHolds: 1, pendingCount: 1, allDelivered: false, flagged: false });
    expect(byId.get(stale)).toMatchObject({ madeCount: 4, serverHolds: 0, pendingCount: 4, allDelivered: false, flagged: true, lastPushAt: null });
    expect(list.map((d) => d.deviceId).filter((id) => [delivered, holding, stale].includes(id))).toEqual([stale, holding, delivered]);
  });

  test("another site's admin sees none of this site's devices, and its own device only once it reports", async () => {
    expect(await devices(otherAdmin)).toEqual([]);
    expect((await report(zed, 'dev-site-b')).status).toBe(200);
    expect((await devices(otherAdmin)).map((d) => d.deviceId)).toEqual(['dev-site-b']);
    // The same device id at another site is another row: site-a's is untouched.
    expect((await report(zed, delivered, { madeCount: 9 })).status).toBe(200);
    expect((await devices()).find((d) => d.deviceId === delivered)).toMatchObject({ madeCount: 2, lastUser: 'alice' });
  });

  test('a report without a device id is 400, a bad figure is 400 with the issues, and neither writes', async () => {
    const before = (await sql.query('SELECT count(*)::int AS n FROM devices')).rows[0].n;
    const noId = await call(server.url, 'POST', '/api/sync/devices/report', { token: alice, body: { pendingCount: 0 } });
    expectError(noId, 400, 'device_id_required');
    expectError(await report(alice, 'dev-bad', { pendingCount: -1 }), 400, 'invalid_request');
    expectError(await report(alice, 'dev-bad', { extra: 1 }), 400, 'invalid_request');
    expect((await sql.query('SELECT count(*)::int AS n FROM devices')).rows[0].n).toBe(before);
  });
});

describe("a device's browser, name and the records it holds back", () => {
  const WINDOWS_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36';
  const LINUX_FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const counter = `dev-counter-${randomUUID()}`;
  const refused = {
    externalId: randomUUID(),
    patientId: 'P-REFUSED-1',
    patientName: 'Ada Lovelace',
    medicationName: 'Amoxicillin 500 mg capsules',
    dispensedAt: new Date().toISOString(),
    voided: true,
    code: 'clock_ahead',
    reason: "dispensedAt is 4 minutes ahead of the server's clock",
  };
  const rename = (token: string, deviceId: string, body: unknown) =>
    call(server.url, 'PATCH', `/api/sync/devices/${encodeURIComponent(deviceId)}`, { token, body });

  test('a report keeps the User-Agent (in words in the list) and the refused records it lists; a push from another browser replaces it', async () => {
    const r = await call(server.url, 'POST', '/api/sync/devices/report', {
      token: alice,
      headers: { 'x-device-id': counter, 'user-agent': WINDOWS_CHROME },
      body: {
        pendingCount: 0,
        oldestPendingAt: null,
        appVersion: '0.1.0',
        madeCount: 1,
        deviceTime: new Date().toISOString(),
        refusedCount: 1,
        refused: [refused],
      },
    });
    expect(r.status).toBe(200);
    expect((await devices()).find((d) => d.deviceId === counter)).toMatchObject({
      userAgent: WINDOWS_CHROME,
      browser: 'Chrome 141 on Windows',
      refusedCount: 1,
      refused: [refused],
      name: null,
    });
    const { rows } = await sql.query('SELECT user_agent, refused_count FROM devices WHERE device_id = $1', [counter]);
    expect(rows).toEqual([{ user_agent: WINDOWS_CHROME, refused_count: 1 }]);

    const doc = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 40);
    const pushed = await push(server.url, alice, pushBody([doc]), { headers: { 'x-device-id': counter, 'user-agent': LINUX_FIREFOX } });
    expect(pushed.status).toBe(200);
    expect((await devices()).find((d) => d.deviceId === counter)).toMatchObject({ userAgent: LINUX_FIREFOX, browser: 'Firefox 128 on Linux' });
  });

  test('a report of more refused records than a report lists, or with a reason too long, is 400 and writes nothing', async () => {
    const body = (list: unknown[]) => ({
      pendingCount: 0,
      oldestPendingAt: null,
      appVersion: '0.1.0',
      madeCount: 0,
      deviceTime: new Date().toISOString(),
      refusedCount: list.length,
      refused: list,
    });
    const send = (list: unknown[]) =>
      call(server.url, 'POST', '/api/sync/devices/report', { token: alice, headers: { 'x-device-id': counter }, body: body(list) });
    expectError(await send(Array.from({ length: 21 }, () => refused)), 400, 'invalid_request');
    expectError(await send([{ ...refused, reason: 'x'.repeat(501) }]), 400, 'invalid_request');
    expect((await devices()).find((d) => d.deviceId === counter)!.refused).toEqual([refused]);
  });

  test("the site's admin names a device (200, shown in the list); an empty name removes it", async () => {
    const r = await rename(admin, counter, { name: '  Counter 2, front desk  ' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ deviceId: counter, name: 'Counter 2, front desk' });
    expect((await devices()).find((d) => d.deviceId === counter)!.name).toBe('Counter 2, front desk');
    expect((await rename(admin, counter, { name: '' })).body).toEqual({ deviceId: counter, name: null });
    expect((await devices()).find((d) => d.deviceId === counter)!.name).toBeNull();
  });

  test("a pharmacist gets 403, another site's admin and an unknown device 404, and nothing is renamed", async () => {
    expectError(await rename(alice, counter, { name: 'Mine now' }), 403, 'forbidden');
    expectError(await rename(otherAdmin, counter, { name: 'Theirs now' }), 404, 'not_found');
    expectError(await rename(admin, `dev-nobody-${randomUUID()}`, { name: 'Ghost' }), 404, 'not_found');
    expectError(await rename(admin, 'not a device id!', { name: 'Ghost' }), 404, 'not_found');
    expect((await devices()).find((d) => d.deviceId === counter)!.name).toBeNull();
  });

  test.each([
    ['a name too long', { name: 'x'.repeat(61) }],
    ['no name', {}],
    ['a number', { name: 42 }],
    ['a control character', { name: 'Counter\u0007' }],
    ['another field', { name: 'Counter', siteId: 'site-b' }],
  ])('%s is 400 with the issues', async (_what, body) => {
    const r = await rename(admin, counter, body);
    expectError(r, 400, 'invalid_request');
    expect(r.body.error.issues.length).toBeGreaterThan(0);
  });
});

describe('device clocks', () => {
  test('a raw push with an instant a day ahead is refused with clock_ahead, and nothing is stored', async () => {
    const ahead = new Date(Date.now() + 24 * 3600_000).toISOString();
    const doc = makeDispense({ siteId: 'site-a', dispensedBy: 'alice', dispensedAt: ahead, updatedAt: ahead });
    const r = await push(server.url, alice, pushBody([doc]));
    expect(r.status).toBe(200);
    expect(r.body.rejected).toEqual([expect.objectContaining({ externalId: doc.externalId, code: 'clock_ahead' })]);
    expect(r.body.rejected[0].message).toMatch(/ahead of the server's clock/);
    expect((await sql.query('SELECT count(*)::int AS n FROM dispenses WHERE external_id = $1', [doc.externalId])).rows[0].n).toBe(0);
  });

  test('a report measures the offset of the device clock, shown in the list and kept in the audit rows of its next pushes', async () => {
    const device = `dev-fast-${randomUUID()}`;
    const r = await report(alice, device, { deviceTime: new Date(Date.now() + 3 * 24 * 3600_000).toISOString() });
    expect(r.status).toBe(200);
    expect(r.body.clockOffsetMs).toBeGreaterThan(3 * 24 * 3600_000 - 5000);
    expect(r.body.serverHolds).toBe(0);
    expect(Math.abs(Date.parse(r.body.serverTime) - Date.now())).toBeLessThan(5000);
    const listed = (await devices()).find((d) => d.deviceId === device)!;
    expect(listed.clockOffsetMs).toBe(r.body.clockOffsetMs);
    const doc = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 9);
    expect((await push(server.url, alice, pushBody([doc]), { headers: { 'x-device-id': device } })).status).toBe(200);
    const detail = dispenseDetailSchema.parse((await call(server.url, 'GET', `/api/dispenses/${doc.externalId}`, { token: alice })).body);
    expect(detail.audit).toEqual([expect.objectContaining({ deviceId: device, clockOffsetMs: r.body.clockOffsetMs, actor: 'alice' })]);
  });
});

describe('export', () => {
  const from = '2025-03-01';
  const to = '2025-04-01';
  const inPeriod: Dispense[] = [];

  beforeAll(async () => {
    const at = (iso: string) => ({ dispensedAt: iso, updatedAt: iso });
    const a = (o: Partial<Dispense>, i: number) => makeDispense({ siteId: 'site-a', dispensedBy: 'alice', expiryDate: '2030-01-01', ...o }, i);
    inPeriod.push(
      a({ ...at('2025-03-01T00:00:00.000Z'), patientName: '=HYPERLINK("http://evil","click")', notes: 'line one\r\nline "two", three' }, 1),
      a({ ...at('2025-03-15T10:30:00.000Z'), patientId: '+41-79', medicationName: '@SUM(A1:A9)', prescriber: '-2+3' }, 2),
      a({ ...at('2025-03-31T23:59:59.999Z'), patientName: 'Zoë Ångström 张伟', batchNumber: '\tTAB' }, 3),
    );
    // 2,500 more to cross page boundaries, with ties on one instant.
    for (let i = 0; i < 2500; i++) inPeriod.push(a(at(new Date(Date.UTC(2025, 2, 10) + Math.floor(i / 3) * 1000).toISOString()), 10 + i));
    const outside = [a(at('2025-02-28T23:59:59.999Z'), 4), a(at('2025-04-01T00:00:00.000Z'), 5)];
    const theirs = makeDispense({ siteId: 'site-b', dispensedBy: 'zed', ...at('2025-03-10T00:00:00.000Z') }, 6);
    for (let i = 0; i < inPeriod.length; i += 1000) expect((await push(server.url, alice, pushBody(inPeriod.slice(i, i + 1000)))).status).toBe(200);
    expect((await push(server.url, alice, pushBody(outside))).status).toBe(200);
    expect((await push(server.url, zed, pushBody([theirs]))).status).toBe(200);
  });

  test('the CSV parses back to exactly the stored rows of [from, to), oldest first, with formula-looking text escaped', async () => {
    const r = await call(server.url, 'GET', `/api/dispenses/export.csv?from=${from}&to=${to}`, { token: admin });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="dispenses-site-a-2025-03-01-to-2025-03-31.csv"');
    const rows = parse(r.text, { columns: true, bom: true, relax_column_count: false }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(DISPENSE_FIELDS);
    const sorted = [...inPeriod].sort((x, y) => x.dispensedAt.localeCompare(y.dispensedAt) || x.externalId.localeCompare(y.externalId));
    // What a spreadsheet shows: the stored text, with the apostrophe before a formula-looking one.
    const shown = (d: Dispense) =>
      Object.fromEntries(DISPENSE_FIELDS.map((f) => [f, d[f] === undefined ? '' : String(d[f]).replace(/^([=+\-@\t\r])/, "'$1")]));
    expect(rows).toEqual(sorted.map(shown));
    const first = rows.find((row) => row.externalId === inPeriod[0].externalId)!;
    expect(first.patientName).toBe('\'=HYPERLINK("http://evil","click")');
    expect(first.notes).toBe('line one\r\nline "two", three');
    expect(rows.find((row) => row.externalId === inPeriod[2].externalId)!.patientName).toBe('Zoë Ångström 张伟');
    expect(rows.some((row) => row.siteId !== 'site-a')).toBe(false);
  });

  test("another site's admin gets only its own site's rows of the period", async () => {
    const r = await call(server.url, 'GET', `/api/dispenses/export.csv?from=${from}&to=${to}`, { token: otherAdmin });
    const rows = parse(r.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row.siteId)).toEqual(['site-b']);
  });

  test('a period with no records is the header row alone; instants with offsets are taken as such', async () => {
    const r = await call(server.url, 'GET', '/api/dispenses/export.csv?from=2020-01-01&to=2020-02-01', { token: admin });
    expect(r.text).toBe(`${DISPENSE_FIELDS.join(',')}\r\n`);
    const edge = await call(
      server.url,
      'GET',
      `/api/dispenses/export.csv?from=${encodeURIComponent('2025-03-31T23:59:59.999Z')}&to=${encodeURIComponent('2025-04-01T02:00:00+02:00')}`,
      { token: admin },
    );
    expect((parse(edge.text, { columns: true }) as unknown[]).length).toBe(1);
  });

  test("the file is named by the days it holds, in the offset the query gives (a device's local midnights)", async () => {
    const name = async (from: string, to: string) => {
      const r = await call(server.url, 'GET', `/api/dispenses/export.csv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, {
        token: admin,
      });
      expect(r.status).toBe(200);
      return /filename="([^"]+)"/.exec(r.headers.get('content-disposition') ?? '')?.[1];
    };
    expect(await name('2026-12-07T00:00:00.000+01:00', '2026-12-08T00:00:00.000+01:00')).toBe('dispenses-site-a-2026-12-07-to-2026-12-07.csv');
    expect(await name('2026-12-01T00:00:00.000-05:00', '2026-12-08T00:00:00.000-05:00')).toBe('dispenses-site-a-2026-12-01-to-2026-12-07.csv');
    expect(await name('2026-12-07', '2026-12-08')).toBe('dispenses-site-a-2026-12-07-to-2026-12-07.csv');
  });

  test.each([
    ['a bad date', 'from=2025-13-01&to=2025-14-01'],
    ['no dates', ''],
    ['text', 'from=yesterday&to=today'],
    ['a reversed period', 'from=2025-04-01&to=2025-03-01'],
    ['an empty period', 'from=2025-04-01&to=2025-04-01'],
    ['a period over a year', 'from=2024-01-01&to=2025-01-03'],
    ['year zero', 'from=0000-01-01&to=0000-02-01'],
    ['repeated parameters', 'from=2025-01-01&from=2025-02-01&to=2025-03-01'],
  ])('%s is 400 with the error body', async (_what, query) => {
    expectError(await call(server.url, 'GET', `/api/dispenses/export.csv?${query}`, { token: admin }), 400, 'invalid_request');
  });

  test('csvCell quotes what RFC 4180 needs and escapes formulas', () => {
    expect(['plain', 'a,b', 'say "hi"', 'x\ny', '=1+1', '-3', '@x', '+1', '\tx', undefined].map(csvCell)).toEqual([
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"x\ny"',
      "'=1+1",
      "'-3",
      "'@x",
      "'+1",
      "'\tx",
      '',
    ]);
  });
});
