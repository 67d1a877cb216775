import { randomUUID } from 'node:crypto';
import { dispenseDetailSchema, dispensePageSchema, syncStatusSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { call, expectError, push, pushBody } from '../support/api';
import { openCounter, type Counter } from './counter';

let server: TestServer;
let counter: Counter;
let alice: string; // site-a
let zed: string; // site-b
let yan: string; // site-c, never pushes
const siteA: Dispense[] = [];
const siteB: Dispense[] = [];
let firstPushAt: number;
let lastPushDone: number;

beforeAll(async () => {
  server = await startTestServer();
  counter = openCounter(server.database!.url);
  await server.addUser('alice', 'site-a');
  await server.addUser('zed', 'site-b');
  await server.addUser('yan', 'site-c');
  [alice, zed, yan] = await Promise.all(['alice', 'zed', 'yan'].map(async (u) => (await server.login(u)).token));

  // Seven records a minute apart, and four more sharing one instant (ties must page cleanly).
  for (let i = 0; i < 7; i++) siteA.push(makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, i * 60));
  for (let i = 0; i < 4; i++) siteA.push(makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 600));
  for (let i = 0; i < 2; i++) siteB.push(makeDispense({ siteId: 'site-b', dispensedBy: 'zed' }, 30 + i));
  firstPushAt = Date.now();
  expect((await push(server.url, alice, pushBody(siteA))).status).toBe(200);
  expect((await push(server.url, zed, pushBody(siteB))).status).toBe(200);
  lastPushDone = Date.now();
});

afterAll(async () => {
  await counter?.close();
  await server?.stop();
});

const byNewest = (a: Dispense, b: Dispense) => b.dispensedAt.localeCompare(a.dispensedAt) || b.externalId.localeCompare(a.externalId);

async function allPages(token: string, limit: number) {
  const pages: Dispense[][] = [];
  let cursor: string | null = null;
  do {
    const res = await call(server.url, 'GET', `/api/dispenses?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token });
    expect(res.status).toBe(200);
    const page = dispensePageSchema.parse(res.body);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor && pages.length < 50);
  return pages;
}

describe('GET /api/dispenses', () => {
  test("it lists only the caller's site, newest first, and paging with the cursor visits each record exactly once", async () => {
    const pages = await allPages(alice, 3);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 3, 2]);
    expect(pages.flat()).toEqual([...siteA].sort(byNewest));
  });

  test('records that share one dispensedAt are neither skipped nor repeated across a page boundary', async () => {
    const pages = await allPages(alice, 2);
    const ids = pages.flat().map((d) => d.externalId);
    expect(new Set(ids).size).toBe(siteA.length);
    expect(ids).toHaveLength(siteA.length);
  });

  test('without a limit, a page holds up to 50 records and the last page has no cursor', async () => {
    const res = await call(server.url, 'GET', '/api/dispenses', { token: zed });
    expect(res.body).toEqual({ items: [...siteB].sort(byNewest), nextCursor: null });
  });

  test('a site with no records gets an empty page', async () => {
    expect((await call(server.url, 'GET', '/api/dispenses', { token: yan })).body).toEqual({ items: [], nextCursor: null });
  });

  test.each([
    'limit=0',
    'limit=501',
    'limit=abc',
    'cursor=garbage',
    'cursor=2026-11-25T09:00:00.000Z_not-a-uuid-at-all-xxxxxxxxxxxxxxxxxx',
    'cursor=2026-11-25T09:00:00.000Z_------------------------------------',
    'cursor=2026-99-99T99:99:99.999Z_6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
  ])('with the bad query %s, it answers 400 invalid_request', async (query) => {
    expectError(await call(server.url, 'GET', `/api/dispenses?${query}`, { token: alice }), 400, 'invalid_request');
  });
});

describe('GET /api/dispenses/:externalId', () => {
  test('an id whose percent-encoding is not valid UTF-8 gets 400 bad_request, not a 500', async () => {
    expectError(await call(server.url, 'GET', '/api/dispenses/%EF%BF%BD%ED%A0%80%FF', { token: alice }), 400, 'bad_request');
  });

  test('it answers the record with its audit trail, oldest first, each entry with before, after and what changed', async () => {
    const original = siteA[0];
    const edited: Dispense = { ...original, quantity: 42, updatedAt: '2026-11-26T08:00:00.000Z' };
    await push(server.url, alice, pushBody([edited], [original]));

    const res = await call(server.url, 'GET', `/api/dispenses/${original.externalId}`, { token: alice });
    expect(res.status).toBe(200);
    const detail = dispenseDetailSchema.parse(res.body);
    expect(detail.record).toEqual(edited);
    expect(detail.audit).toEqual([
      expect.objectContaining({ action: 'create', actor: 'alice', changed: [], before: null, after: original }),
      expect.objectContaining({ action: 'update', actor: 'alice', changed: ['quantity', 'updatedAt'], before: original, after: edited }),
    ]);
    expect(detail.audit[0].id).toBeLessThan(detail.audit[1].id);
  });

  test('the id may be given in upper case', async () => {
    const res = await call(server.url, 'GET', `/api/dispenses/${siteA[1].externalId.toUpperCase()}`, { token: alice });
    expect(res.status).toBe(200);
    expect(res.body.record).toEqual(siteA[1]);
  });

  test("another site's record answers 404 not_found, exactly like a record that does not exist", async () => {
    const other = await call(server.url, 'GET', `/api/dispenses/${siteB[0].externalId}`, { token: alice });
    const missing = await call(server.url, 'GET', `/api/dispenses/${randomUUID()}`, { token: alice });
    expectError(other, 404, 'not_found');
    expect(other.body).toEqual(missing.body);
    expect(JSON.stringify(other.body)).not.toContain(siteB[0].patientId);
  });

  test.each(['not-a-uuid', '------------------------------------', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', "x' OR '1'='1"])(
    'an id that is not a UUID (%p) answers 404 not_found',
    async (id) => {
      expectError(await call(server.url, 'GET', `/api/dispenses/${encodeURIComponent(id)}`, { token: alice }), 404, 'not_found');
    },
  );
});

describe('GET /api/sync/status', () => {
  test("it gives the server's time, all records, the caller's site's records and its last push", async () => {
    const res = await call(server.url, 'GET', '/api/sync/status', { token: alice });
    expect(res.status).toBe(200);
    const status = syncStatusSchema.parse(res.body);
    expect(status.totalRecords).toBe(siteA.length + siteB.length);
    expect(status.siteRecords).toBe(siteA.length);
    expect(Math.abs(Date.parse(status.serverTime) - Date.now())).toBeLessThan(5000);
    expect(Date.parse(status.lastPushAt!)).toBeGreaterThanOrEqual(firstPushAt - 1000);
    expect(Date.parse(status.lastPushAt!)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(Object.keys(res.body)).toEqual(['serverTime', 'totalRecords', 'siteRecords', 'lastPushAt', 'pullWindowDays', 'duplicateWindowHours']);
  });

  test("it gives the client the server's settings: the pull's window of 90 days and the duplicate warning's 24 hours by default", async () => {
    const status = syncStatusSchema.parse((await call(server.url, 'GET', '/api/sync/status', { token: yan })).body);
    expect(status).toMatchObject({ pullWindowDays: 90, duplicateWindowHours: 24 });
  });

  test('the figures match a count in PostgreSQL', async () => {
    const [db] = await counter.query("SELECT count(*)::int AS total, count(*) FILTER (WHERE site_id = 'site-b')::int AS b FROM dispenses");
    const status = syncStatusSchema.parse((await call(server.url, 'GET', '/api/sync/status', { token: zed })).body);
    expect({ total: status.totalRecords, b: status.siteRecords }).toEqual(db);
    expect(Date.parse(status.lastPushAt!)).toBeLessThanOrEqual(lastPushDone + 1000);
  });

  test('a site that never pushed has no records and no last push', async () => {
    const status = syncStatusSchema.parse((await call(server.url, 'GET', '/api/sync/status', { token: yan })).body);
    expect(status).toMatchObject({ siteRecords: 0, lastPushAt: null });
  });

  test('a push moves lastPushAt forward', async () => {
    const before = syncStatusSchema.parse((await call(server.url, 'GET', '/api/sync/status', { token: zed })).body);
    await new Promise((r) => setTimeout(r, 20));
    await push(server.url, zed, pushBody([makeDispense({ siteId: 'site-b', dispensedBy: 'zed' })]));
    const after = syncStatusSchema.parse((await call(server.url, 'GET', '/api/sync/status', { token: zed })).body);
    expect(Date.parse(after.lastPushAt!)).toBeGreaterThan(Date.parse(before.lastPushAt!));
    expect(after.siteRecords).toBe(before.siteRecords + 1);
  });
});

describe('GET /api/dispenses?patientId=', () => {
  const patient = 'P-HISTORY-1';
  const history: Dispense[] = [];
  beforeAll(async () => {
    // Five dispenses to one patient at site-a among the others, and one to the same id at site-b.
    for (let i = 0; i < 5; i++) history.push(makeDispense({ siteId: 'site-a', dispensedBy: 'alice', patientId: patient }, 5000 + i * 3600));
    const other = makeDispense({ siteId: 'site-b', dispensedBy: 'zed', patientId: patient }, 9000);
    expect((await push(server.url, alice, pushBody([...history, makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, 9999)]))).status).toBe(200);
    expect((await push(server.url, zed, pushBody([other]))).status).toBe(200);
  });

  test("it lists that patient's records at the caller's site only, newest first, paged with the cursor", async () => {
    const first = dispensePageSchema.parse((await call(server.url, 'GET', `/api/dispenses?patientId=${patient}&limit=3`, { token: alice })).body);
    const next = `/api/dispenses?patientId=${patient}&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`;
    const second = dispensePageSchema.parse((await call(server.url, 'GET', next, { token: alice })).body);
    expect([...first.items, ...second.items]).toEqual([...history].sort(byNewest));
    expect(second.nextCursor).toBeNull();
  });

  test('a patient with no records at the site gets an empty page', async () => {
    expect((await call(server.url, 'GET', `/api/dispenses?patientId=${patient}`, { token: yan })).body).toEqual({ items: [], nextCursor: null });
  });

  test.each(['patientId=', `patientId=${'x'.repeat(65)}`, 'patientId=%20%20', 'patientId=a&patientId=b'])(
    'with the bad patient filter %s, it answers 400 invalid_request',
    async (query) => {
      expectError(await call(server.url, 'GET', `/api/dispenses?${query}`, { token: alice }), 400, 'invalid_request');
    },
  );
});
