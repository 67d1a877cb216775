/**
 * The browser's sync in Node, end to end below the UI: RxDB on fake-indexeddb, the real server
 * on a random port, real PostgreSQL, real sign-in. Every test has its own site, user and browser.
 */
import '../support/local-storage';
import { firstValueFrom, filter } from 'rxjs';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispense, createDispenses, editDispense, voidDispense } from '../../client/data/records';
import { useSyncSettings } from '../../client/stores/sync-settings';
import { useSyncStatus } from '../../client/stores/sync-status';
import { recordSyncStatesOf$, type SyncController } from '../../client/sync';
import type { LoginResponse } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { issueToken } from '../../server/auth';
import { parseEnv } from '../../server/env';
import { inputFor, newBrowser, startDevice, type Browser, type DeviceOptions, type PushSeen } from '../support/device';
import { eventually } from '../support/eventually';
import { auditActions as auditActionsIn, recordCounts } from '../support/inspect';
import { createTestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server';

let server: TestServer;
let sites = 0;
const open: { db: DispenseDatabase; browser: Browser; sync?: SyncController; seen?: PushSeen }[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

afterEach(async () => {
  useSyncSettings.setState({ enabled: true });
  // The open-source RxDB allows few open collections per process: close everything.
  for (const o of open.splice(0)) {
    await o.sync?.stop();
    if (!o.db.closed) await o.db.remove();
  }
});

/** A pharmacist of a site of their own, signed in. */
async function pharmacist(s: TestServer = server): Promise<LoginResponse & { siteId: string }> {
  const n = ++sites;
  const siteId = `site-${process.pid}-${n}`;
  await s.addUser(`user${n}`, siteId);
  return { ...(await s.login(`user${n}`)), siteId };
}

/** What the device sent: pushes and their rows. */
const sent = (db: DispenseDatabase) => {
  const { pushes, rows } = open.find((o) => o.db === db)!.seen!;
  return { pushes, rows };
};

const until = <T>(what: string, check: () => T | Promise<T>) => eventually(check, { what });

async function openBrowser(browser: Browser = newBrowser()): Promise<DispenseDatabase> {
  const db = await browser.open();
  open.push({ db, browser });
  return db;
}

/** Starts sync as the app does (its scheduler's own timings) and waits until this tab leads (it replicates). */
async function sync(
  db: DispenseDatabase,
  deps: Partial<DeviceOptions> & { siteId: string; getToken: () => string | null },
  s = server,
): Promise<SyncController> {
  const o = open.find((x) => x.db === db)!;
  const { siteId, ...rest } = deps;
  const device = await startDevice(db, o.browser, {
    name: 'test-device',
    deviceId: 'test-device',
    baseUrl: s.url,
    user: { username: 'test-device', siteId },
    scheduler: {},
    ...rest,
  });
  o.sync = device.sync;
  o.seen = device.seen;
  return device.sync;
}

const status = () => useSyncStatus.getState();

async function counts(siteId: string, s = server): Promise<{ rows: number; audit: number; creates: number }> {
  const { records: rows, audit, creates } = await recordCounts(s.database!.url, siteId);
  return { rows, audit, creates };
}

const auditActions = (externalId: string) => auditActionsIn(server.database!.url, externalId);

const user = (p: { user: { username: string }; siteId: string }) => ({ username: p.user.username, siteId: p.siteId });

test('when 2,500 records saved on the device are synced by one "Sync now", PostgreSQL holds 2,500 rows and 2,500 audit rows, sent in requests of 1000 at most, and nothing is pending', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  await createDispenses(
    db,
    Array.from({ length: 2500 }, (_, i) => inputFor(i)),
    user(p),
  );
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  await until('2,500 pending', () => status().pendingCount === 2500);
  expect(sent(db).pushes).toBe(0); // starting sync sends nothing by itself
  // When the oldest pending record was saved: the first after the checkpoint, its local write time.
  const oldest = await until('the oldest pending change', () => status().oldestPendingAt);
  expect(Date.now() - Date.parse(oldest!)).toBeLessThan(60_000);

  await controller.syncNow();

  expect(sent(db)).toEqual({ pushes: 3, rows: 2500 });
  expect(await counts(p.siteId)).toEqual({ rows: 2500, audit: 2500, creates: 2500 });
  await until('0 pending', () => status().pendingCount === 0);
  expect(status()).toMatchObject({ state: 'ready', oldestPendingAt: null, lastResult: 'Synced 2500 records', lastError: null, rejected: [] });
  expect(status().lastSyncAt).not.toBeNull();
});

test('when the app is reloaded after a sync, the new database instance sends nothing again, and a record made after the reload is sent alone', async () => {
  const p = await pharmacist();
  const browser = newBrowser();
  const first = await openBrowser(browser);
  await createDispenses(
    first,
    Array.from({ length: 700 }, (_, i) => inputFor(i)),
    user(p),
  );
  await (await sync(first, { siteId: p.siteId, getToken: () => p.token })).syncNow();
  expect((await counts(p.siteId)).rows).toBe(700);
  const o = open.find((x) => x.db === first)!;
  await o.sync!.stop();
  o.sync = undefined;
  await first.close();

  const reloaded = await openBrowser(browser);
  const controller = await sync(reloaded, { siteId: p.siteId, getToken: () => p.token });
  await controller.syncNow();
  expect(sent(reloaded)).toEqual({ pushes: 0, rows: 0 });
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status().pendingCount).toBe(0);
  expect(status().lastResult).toBe('Nothing new to send');

  const one = await createDispense(reloaded, inputFor(9000), user(p));
  await until('1 pending', () => status().pendingCount === 1);
  await controller.syncNow();
  expect(sent(reloaded)).toEqual({ pushes: 1, rows: 1 });
  expect(await counts(p.siteId)).toEqual({ rows: 701, audit: 701, creates: 701 });
  expect(await auditActions(one.externalId)).toEqual(['create']);
});

test('when the server stops in the middle of a run and starts again on the same database, every record lands exactly once and nothing stays pending', async () => {
  const database = await createTestDatabase();
  const env = { SHUTDOWN_GRACE_SECONDS: '0' };
  let s = await startTestServer(env, { database });
  try {
    const p = await pharmacist(s);
    const db = await openBrowser();
    await createDispenses(
      db,
      Array.from({ length: 2500 }, (_, i) => inputFor(i)),
      user(p),
    );
    let pushes = 0;
    let stopping: Promise<void> | null = null;
    const f: typeof fetch = async (url, init) => {
      pushes += 1;
      if (pushes === 3) stopping = s.close(); // the server goes down with the third batch in flight
      return fetch(url, init);
    };
    // Batches of one request of 500, each checkpointed: the first two are answered before the stop.
    const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token, fetch: f, batchSize: 500, requestsPerBatch: 1 }, s);
    await controller.syncNow();
    await stopping;

    // Down: PostgreSQL holds whole batches only, each record with its create, and not all of them.
    const landed = await counts(p.siteId, s);
    expect(landed.rows % 500).toBe(0);
    expect(landed.rows).toBeLessThan(2500);
    expect(landed).toEqual({ rows: landed.rows, audit: landed.rows, creates: landed.rows });
    expect(status().state).toBe('offline');
    expect(status().lastError).toMatch(/Cannot reach the server/);
    expect(status().nextTryAt).not.toBeNull();
    expect(status().pendingCount).toBeGreaterThan(0);
    expect(status().pendingCount).toBeLessThan(2500);

    s = await startTestServer({ ...env, PORT: String(s.port) }, { database });
    await controller.syncNow();

    await until('0 pending', () => status().pendingCount === 0);
    expect(await counts(p.siteId, s)).toEqual({ rows: 2500, audit: 2500, creates: 2500 });
    expect(status()).toMatchObject({ state: 'ready', lastError: null });
  } finally {
    await s.close();
    await database.drop();
  }
});

test('when the server refuses the token (expired or invalid), records stay pending, the panel asks to sign in again, and a new sign-in sends them', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  await createDispenses(
    db,
    Array.from({ length: 3 }, (_, i) => inputFor(i)),
    user(p),
  );
  const expired = issueToken({ ...parseEnv({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET }), TOKEN_TTL_SECONDS: -3600 }, p.user).token;
  let token: string | null = expired;
  let unauthorized = 0;
  // Auto sync off: with it on, the run owed at start (records waiting) and "Sync now" were one run
  // or two as the start run happened to end before the click or not; each run refused calls onUnauthorized.
  useSyncSettings.setState({ enabled: false }); // on again after each test
  const controller = await sync(db, { siteId: p.siteId, getToken: () => token, onUnauthorized: () => (unauthorized += 1) });

  await controller.syncNow();
  expect(status()).toMatchObject({ needsSignIn: true, state: 'sign-in', pendingCount: 3 });
  expect(status().lastError).toMatch(/token_expired/);
  expect(unauthorized).toBe(1);
  expect(sent(db).pushes).toBeLessThanOrEqual(1); // the run ends at its first 401, the pull's or the push's

  token = 'not-a-token';
  await controller.syncNow();
  expect(status()).toMatchObject({ needsSignIn: true, pendingCount: 3 });
  expect(status().lastError).toMatch(/token_malformed/);
  expect((await counts(p.siteId)).rows).toBe(0);
  const ids = [...(await db.dispenses.find().exec())].map((d) => d.externalId);
  expect(await firstValueFrom(recordSyncStatesOf$(db, ids))).toEqual(new Map(ids.map((id) => [id, { state: 'pending' }])));

  token = p.token;
  await controller.syncNow();
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status()).toMatchObject({ needsSignIn: false, pendingCount: 0, lastError: null });
  expect((await counts(p.siteId)).rows).toBe(3);
});

test('when a synced record is edited and then voided, each change is pushed as an update with its own audit row', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  const made = await createDispense(db, inputFor(1, { quantity: 21 }), user(p));
  await controller.syncNow();
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status().pendingCount).toBe(0);

  const edited = await editDispense(db, made.externalId, { quantity: 28, notes: 'Course extended' }, 'Corrected at the counter');
  expect(edited.updatedAt > made.updatedAt).toBe(true);
  await until('1 pending', () => status().pendingCount === 1);
  await controller.syncNow();
  const row = await server.db('dispenses').where({ external_id: made.externalId }).first();
  expect(row).toMatchObject({ quantity: 28, notes: 'Course extended' });
  expect(await auditActions(made.externalId)).toEqual(['create', 'update']);

  await voidDispense(db, made.externalId, 'Wrong patient');
  await controller.syncNow();
  expect(await server.db('dispenses').where({ external_id: made.externalId }).first()).toMatchObject({
    status: 'voided',
    void_reason: 'Wrong patient',
  });
  expect(await auditActions(made.externalId)).toEqual(['create', 'update', 'void']);
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status()).toMatchObject({ pendingCount: 0, lastResult: 'Synced 1 record' });
});

test('when the server rejects a record, it shows as rejected with the reason while the rest of the batch lands; after an edit that fixes it, it lands', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  const good = await createDispenses(db, [inputFor(1), inputFor(2)], user(p));
  // Saved by an older app version that did not check expiry against the dispense date.
  const bad: Dispense = makeDispense(
    { siteId: p.siteId, dispensedBy: p.user.username, expiryDate: '2020-01-31', updatedAt: new Date().toISOString() },
    3,
  );
  await db.dispenses.insert(bad);
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  await until('3 pending', () => status().pendingCount === 3);

  await controller.syncNow();
  expect((await counts(p.siteId)).rows).toBe(2);
  await until('1 rejected', () => status().rejected.length === 1);
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status()).toMatchObject({ pendingCount: 0, lastResult: 'Synced 2 records; 1 record rejected by the server' });
  expect(status().rejected[0]).toMatchObject({ externalId: bad.externalId, code: 'invalid_record' });
  expect(status().rejected[0].message).toMatch(/expiryDate: Expiry date is before the dispense date/);
  const states = await firstValueFrom(recordSyncStatesOf$(db, [bad.externalId, good[0].externalId]).pipe(filter((m) => m.size > 0)));
  expect(states.get(bad.externalId)).toEqual({ state: 'rejected', reason: status().rejected[0].message });
  expect(states.has(good[0].externalId)).toBe(false); // synced

  await editDispense(db, bad.externalId, { expiryDate: '2028-06-30' }, 'Corrected at the counter');
  await until('the fixed record pending', () => status().pendingCount === 1 && status().rejected.length === 0);
  await controller.syncNow();
  expect(await counts(p.siteId)).toEqual({ rows: 3, audit: 3, creates: 3 });
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status()).toMatchObject({ pendingCount: 0, rejected: [] });
  await firstValueFrom(recordSyncStatesOf$(db, [bad.externalId, good[0].externalId]).pipe(filter((m) => m.size === 0)));
});

test('when the server holds a newer version from another device, a void there wins over an edit here, and the edit is kept on the device as superseded', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  const made = await createDispense(db, inputFor(1), user(p));
  await controller.syncNow();

  // Another device voids the record (it pushes with the state it knows).
  const voided = {
    ...made,
    status: 'voided' as const,
    voidReason: 'Duplicate entry',
    updatedAt: new Date(Date.parse(made.updatedAt) + 1).toISOString(),
  };
  const res = await fetch(`${server.url}/api/sync/dispenses/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
    body: JSON.stringify({ rows: [{ newDocumentState: voided, assumedMasterState: made }] }),
  });
  expect(await res.json()).toEqual({ conflicts: [], rejected: [] });

  // Here the record is edited later than the void (the device's clock has passed the void's time).
  await until('a later instant than the void', () => Date.now() > Date.parse(voided.updatedAt));
  const edited = await editDispense(db, made.externalId, { notes: 'Patient asked for blister packs' }, 'Corrected at the counter');
  await controller.syncNow();

  await until('the void on the device', async () => (await db.dispenses.findOne(made.externalId).exec())?.status === 'voided');
  await until('0 pending', () => status().pendingCount === 0); // the count follows the run's checkpoint
  expect(status().pendingCount).toBe(0);
  expect(status().lastResult).toMatch(/1 record replaced by a newer version from the server/);
  const mark = await db.syncmarks.findOne(made.externalId).exec();
  expect(JSON.parse(mark!.superseded!)).toEqual(edited);
  expect(await server.db('dispenses').where({ external_id: made.externalId }).first()).toMatchObject({ status: 'voided', notes: null });
});

test('when the server holds an older version this device never saw acknowledged, the later edit here wins and is pushed over it', async () => {
  const p = await pharmacist();
  const db = await openBrowser();
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  const made = await createDispense(db, inputFor(1), user(p));
  // The first version reached the server, but its answer was lost (here: pushed by hand).
  const res = await fetch(`${server.url}/api/sync/dispenses/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${p.token}` },
    body: JSON.stringify({ rows: [{ newDocumentState: made, assumedMasterState: null }] }),
  });
  expect(await res.json()).toEqual({ conflicts: [], rejected: [] });
  const edited = await editDispense(db, made.externalId, { quantity: 42 }, 'Corrected at the counter');

  // RxDB pushes the edit as a new record; the server answers with its version; the edit wins.
  await controller.syncNow();
  await until('0 pending', () => status().pendingCount === 0);
  expect(await server.db('dispenses').where({ external_id: made.externalId }).first()).toMatchObject({ quantity: 42 });
  expect(await auditActions(made.externalId)).toEqual(['create', 'update']);
  expect((await db.dispenses.findOne(made.externalId).exec())!.toJSON()).toEqual(edited);
  expect(await db.syncmarks.findOne(made.externalId).exec()).toBeNull(); // nothing superseded, nothing refused
});

test("when a site's database holds a record of another site, the run sends nothing, fails loudly, and the records stay pending", async () => {
  const p = await pharmacist();
  const other = await pharmacist();
  const db = await openBrowser();
  await createDispenses(db, [inputFor(1)], user(p));
  await createDispenses(db, [inputFor(2)], user(other)); // only a bug or a hand-edited database could do this
  const controller = await sync(db, { siteId: p.siteId, getToken: () => p.token });
  await controller.syncNow();
  expect(sent(db).pushes).toBe(0);
  expect(status()).toMatchObject({ state: 'error', pendingCount: 2, rejected: [] });
  expect(status().lastError).toMatch(/in the database of site/);
  expect(await counts(p.siteId)).toEqual({ rows: 0, audit: 0, creates: 0 });
});
