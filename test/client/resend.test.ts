/**
 * A server restored from an older backup: POST /api/sync/dispenses/missing over real HTTP on real
 * PostgreSQL, and a device (RxDB on fake-indexeddb, the app's sync) that finds the records it made
 * and the server lost, makes them pending again and sends them in its next run.
 */
import './local-storage';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispenses } from '../../client/data/records';
import { useDelivery } from '../../client/stores/delivery';
import { useSyncSettings } from '../../client/stores/sync-settings';
import { useSyncStatus } from '../../client/stores/sync-status';
import { startSync, type SyncController } from '../../client/sync';
import { storedCheckpoint } from '../../client/sync/checkpoint';
import { idsAfter } from '../../client/data/rxdb';
import { call, expectError } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { inputFor, newBrowser } from './support';

let server: TestServer;
let sites = 0;
const open: { db: DispenseDatabase; sync?: SyncController }[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.sync?.stop();
    if (!o.db.closed) await o.db.remove();
  }
});

async function pharmacist() {
  const n = ++sites;
  const siteId = `site-resend-${process.pid}-${n}`;
  await server.addUser(`resend${n}`, siteId);
  return { ...(await server.login(`resend${n}`)), siteId };
}

async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const missing = (token: string | undefined, body: unknown) => call(server.url, 'POST', '/api/sync/dispenses/missing', { token, body });

/** What a restore from an older backup does to these records: the rows and their audit trail are gone. */
async function loseOnServer(ids: string[]): Promise<void> {
  await server.db.transaction(async (tx) => {
    await tx.raw('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_change');
    await tx('audit_logs').whereIn('entity_id', ids).delete();
    await tx('dispenses').whereIn('external_id', ids).delete();
    await tx.raw('ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_change');
  });
}

describe('POST /api/sync/dispenses/missing', () => {
  test("answers the ids of the batch that the caller's site does not hold; another site's record is answered exactly like one nobody holds", async () => {
    const a = await pharmacist();
    const b = await pharmacist();
    const held = makeDispense({ siteId: a.siteId, dispensedBy: a.user.username }, 1);
    const othersite = makeDispense({ siteId: b.siteId, dispensedBy: b.user.username }, 2);
    const push = (token: string, doc: typeof held) =>
      call(server.url, 'POST', '/api/sync/dispenses/push', { token, body: { rows: [{ newDocumentState: doc, assumedMasterState: null }] } });
    expect((await push(a.token, held)).status).toBe(200);
    expect((await push(b.token, othersite)).status).toBe(200);
    const nobody = makeDispense({ siteId: a.siteId, dispensedBy: a.user.username }, 3).externalId;

    const r = await missing(a.token, { externalIds: [held.externalId, othersite.externalId, nobody, nobody] });
    expect(r.status).toBe(200);
    expect(new Set(r.body.missing)).toEqual(new Set([othersite.externalId, nobody]));
    // Site b holds its own record and not site a's.
    expect((await missing(b.token, { externalIds: [held.externalId, othersite.externalId] })).body).toEqual({ missing: [held.externalId] });
  });

  test('without a valid token it is 401 and answers nothing', async () => {
    const r = await missing(undefined, { externalIds: [makeDispense({ siteId: 's', dispensedBy: 'x' }).externalId] });
    expectError(r, 401, 'token_missing');
    expect((await missing('not.a.token', { externalIds: [] })).status).toBe(401);
  });

  test('a malformed ask is 400 with the error body: no list, an empty list, more than 1000 ids, an id that is not a lower-case UUID, an extra field', async () => {
    const { token } = await pharmacist();
    const id = () => makeDispense({ siteId: 's', dispensedBy: 'x' }).externalId;
    const bad = [
      {},
      { externalIds: [] },
      { externalIds: Array.from({ length: 1001 }, id) },
      { externalIds: ['not-a-uuid'] },
      { externalIds: [id().toUpperCase()] },
      { externalIds: [id()], siteId: 'other' },
      { externalIds: 'x' },
    ];
    for (const body of bad) expectError(await missing(token, body), 400, 'invalid_request');
    expectError(await call(server.url, 'POST', '/api/sync/dispenses/missing', { token, raw: '{"externalIds": [' }), 400, 'invalid_json');
    expect((await missing(token, { externalIds: Array.from({ length: 1000 }, id) })).body.missing).toHaveLength(1000);
  });

  test('is rate limited like the other sync routes: 429 with Retry-After', async () => {
    const limited = await startTestServer({ RATE_API_PER_MINUTE: '2' });
    try {
      await limited.addUser('busy', 'site-busy');
      const { token } = await limited.login('busy');
      const body = { externalIds: [makeDispense({ siteId: 's', dispensedBy: 'x' }).externalId] };
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await call(limited.url, 'POST', '/api/sync/dispenses/missing', { token, body });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });
});

test('when the server loses records a device had sent (rows and audit trail, as a restore does), the device makes exactly those pending again and its next run sends them back once', async () => {
  const p = await pharmacist();
  const db = await newBrowser().open();
  open.push({ db });
  const made = await createDispenses(
    db,
    Array.from({ length: 40 }, (_, i) => inputFor(i)),
    { username: p.user.username, siteId: p.siteId },
  );
  const sync = startSync(db, { baseUrl: server.url, siteId: p.siteId, getToken: () => p.token, deviceId: `dev-resend-${p.siteId}` });
  open[0].sync = sync;
  await until('leadership', () => useSyncStatus.getState().isLeader);
  await sync.syncNow();
  await until('0 pending', () => useSyncStatus.getState().pendingCount === 0);

  const lost = made.slice(5, 17).map((d) => d.externalId);
  await loseOnServer(lost);
  // The report after the next run is answered with fewer records than the device made: it finds which.
  await sync.syncNow();
  const pending = await until('the lost records pending again', async () => {
    const ids = await idsAfter(db.dispenses, storedCheckpoint(db.name));
    return ids.length === lost.length ? ids : null;
  });
  expect(new Set(pending)).toEqual(new Set(lost));
  await until('the pending count to show them', () => useSyncStatus.getState().pendingCount === lost.length);
  await until('the warning gone while they wait', () => useDelivery.getState().serverLacks === 0);
  // Their data did not change: the same versions go back.
  for (const id of lost) expect((await db.dispenses.findOne(id).exec())!.toJSON()).toEqual(made.find((d) => d.externalId === id));

  await sync.syncNow();
  await until('0 pending', () => useSyncStatus.getState().pendingCount === 0);
  const { rows } = await server.db.raw(
    `SELECT count(*)::int AS records, count(DISTINCT external_id)::int AS ids,
       (SELECT count(*)::int FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.site_id = ? AND a.action = 'create') AS creates,
       (SELECT count(*)::int FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.site_id = ?) AS audit
     FROM dispenses WHERE site_id = ?`,
    [p.siteId, p.siteId, p.siteId],
  );
  expect(rows[0]).toEqual({ records: 40, ids: 40, creates: 40, audit: 40 });
  // A run and its report later: the server holds every record the device made, and says so.
  await sync.syncNow();
  await until('the warning gone', () => useDelivery.getState().serverLacks === 0);
  const [device] = await server.db('devices').where({ device_id: `dev-resend-${p.siteId}` });
  expect(device).toMatchObject({ made_count: 40 });
});

test('records made while a report is on its way never look lost, and nothing is asked about or sent again', async () => {
  // The report is held 2 s; a record made while the next report waits behind it was counted as
  // made but not as pending when the figures were read at different moments (a false "lost").
  const p = await pharmacist();
  const db = await newBrowser().open();
  open.push({ db });
  const realFetch = globalThis.fetch;
  const asked: string[] = [];
  const reports: number[] = [];
  globalThis.fetch = async (input, init) => {
    const url = String(input);
    if (url.includes('/api/sync/dispenses/missing')) asked.push(url);
    if (url.includes('/api/sync/devices/report')) {
      reports.push(Date.now());
      await new Promise((r) => setTimeout(r, 2000));
    }
    return realFetch(input, init);
  };
  const seen: number[] = [];
  const unwatch = useDelivery.subscribe((s) => seen.push(s.serverLacks));
  useSyncSettings.setState({ enabled: false }); // auto sync off: the records stay pending, the reports go on
  try {
    const sync = startSync(db, { baseUrl: server.url, siteId: p.siteId, getToken: () => p.token, deviceId: `dev-made-${p.siteId}` });
    open[0].sync = sync;
    await until('leadership', () => useSyncStatus.getState().isLeader);
    const user = { username: p.user.username, siteId: p.siteId };
    for (let i = 0; i < 5; i++) {
      await createDispenses(db, [inputFor(100 + i)], user);
      await new Promise((r) => setTimeout(r, 1100)); // a report starts after 1 s still; the next record comes while it is held
    }
    await new Promise((r) => setTimeout(r, 4500)); // the last reports answered
    expect(useSyncStatus.getState().pendingCount).toBe(5);
    expect(Math.max(0, ...seen)).toBe(0);
    expect(asked).toEqual([]);
    expect(reports.length).toBeGreaterThanOrEqual(3);
  } finally {
    unwatch();
    useSyncSettings.setState({ enabled: true });
    globalThis.fetch = realFetch;
  }
});
