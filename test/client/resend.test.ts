/**
 * A server restored from an older backup: POST /api/sync/dispenses/missing over real HTTP on real
 * PostgreSQL, and a device (RxDB on fake-indexeddb, the app's sync) that finds the records it made
 * and the server lost, makes them pending again and sends them in its next run.
 */
import '../support/local-storage';
import { createDispenses } from '../../client/data/records';
import { useDelivery } from '../../client/stores/delivery';
import { useSyncSettings } from '../../client/stores/sync-settings';
import { useSyncStatus } from '../../client/stores/sync-status';
import { call, expectError } from '../support/api';
import { inputFor, newBrowser, startDevice, type Device } from '../support/device';
import { eventually } from '../support/eventually';
import { recordCounts } from '../support/inspect';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
let sites = 0;
const open: Device[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const d of open.splice(0)) await d.remove();
});

async function pharmacist() {
  const n = ++sites;
  const siteId = `site-resend-${process.pid}-${n}`;
  await server.addUser(`resend${n}`, siteId);
  return { ...(await server.login(`resend${n}`)), siteId };
}

const until = <T>(what: string, check: () => T | Promise<T>) => eventually(check, { what });

/** A device of `p`'s site on a database already holding records, leading its sync with the app's own scheduler. */
async function siteDevice(
  p: { token: string; user: { username: string }; siteId: string },
  deviceId: string,
  records: number,
  opts: { beforeReport?: () => Promise<void> } = {},
) {
  const browser = newBrowser();
  const db = await browser.open();
  const user = { username: p.user.username, siteId: p.siteId };
  const made =
    records === 0
      ? []
      : await createDispenses(
          db,
          Array.from({ length: records }, (_, i) => inputFor(i)),
          user,
        );
  const d = await startDevice(db, browser, { name: deviceId, deviceId, baseUrl: server.url, user, getToken: () => p.token, scheduler: {}, ...opts });
  open.push(d);
  return { device: d, made };
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
  const { device: d, made } = await siteDevice(p, `dev-resend-${p.siteId}`, 40);
  const { db, sync } = d;
  await sync.syncNow();
  await until('0 pending', () => useSyncStatus.getState().pendingCount === 0);

  const lost = made.slice(5, 17).map((d) => d.externalId);
  await loseOnServer(lost);
  // The report after the next run is answered with fewer records than the device made: it finds which.
  await sync.syncNow();
  const pending = await until('the lost records pending again', async () => {
    const ids = await d.pendingIds();
    return ids.length === lost.length ? ids : null;
  });
  expect(new Set(pending)).toEqual(new Set(lost));
  await until('the pending count to show them', () => useSyncStatus.getState().pendingCount === lost.length);
  await until('the warning gone while they wait', () => useDelivery.getState().serverLacks === 0);
  // Their data did not change: the same versions go back.
  for (const id of lost) expect((await db.dispenses.findOne(id).exec())!.toJSON()).toEqual(made.find((d) => d.externalId === id));

  await sync.syncNow();
  await until('0 pending', () => useSyncStatus.getState().pendingCount === 0);
  expect(await recordCounts(server.database!.url, p.siteId)).toEqual({ records: 40, ids: 40, creates: 40, audit: 40 });
  // A run and its report later: the server holds every record the device made, and says so.
  await sync.syncNow();
  await until('the warning gone', () => useDelivery.getState().serverLacks === 0);
  const [device] = await server.db('devices').where({ device_id: `dev-resend-${p.siteId}` });
  expect(device).toMatchObject({ made_count: 40 });
});

test('records made while a report is on its way never look lost, and nothing is asked about or sent again', async () => {
  // Each report is held until the next record is made: a record made while the next report waits
  // behind it was counted as made but not as pending when the figures were read at different
  // moments (a false "lost").
  const p = await pharmacist();
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((answer) => answer());
  useSyncSettings.setState({ enabled: false }); // auto sync off: the records stay pending, the reports go on
  const { device: d } = await siteDevice(p, `dev-made-${p.siteId}`, 0, {
    beforeReport: () => new Promise<void>((r) => held.push(r)),
  });
  const realFetch = globalThis.fetch;
  const asked: string[] = [];
  globalThis.fetch = async (input, init) => {
    if (String(input).includes('/api/sync/dispenses/missing')) asked.push(String(input));
    return realFetch(input, init);
  };
  const seen: number[] = [];
  const unwatch = useDelivery.subscribe((s) => seen.push(s.serverLacks));
  try {
    const user = { username: p.user.username, siteId: p.siteId };
    for (let i = 0; i < 5; i++) {
      const sent = d.reports.sent;
      await createDispenses(d.db, [inputFor(100 + i)], user);
      release(); // the report held until now is answered after this record was made
      // A report leaves once the figures are still (1 s), and is held until the next record is made.
      await until(`a report after record ${i + 1}`, () => d.reports.sent > sent);
    }
    release();
    await until('the last report answered', () => held.length === 0 && d.reports.answered === d.reports.sent);
    expect(useSyncStatus.getState().pendingCount).toBe(5);
    expect(Math.max(0, ...seen)).toBe(0);
    expect(asked).toEqual([]);
    expect(d.reports.sent).toBeGreaterThanOrEqual(5);
  } finally {
    release();
    unwatch();
    useSyncSettings.setState({ enabled: true });
    globalThis.fetch = realFetch;
  }
});
