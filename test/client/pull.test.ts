/**
 * Two devices of one site, in Node: RxDB on fake-indexeddb, the real server and PostgreSQL. What
 * one device pushes, the other pulls in its next run; pulled records are not pending; edits on
 * both settle by the one conflict rule; another site's device gets nothing.
 */
import './local-storage';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispenses, editDispense, voidDispense } from '../../client/data/records';
import { startSync, type SyncController } from '../../client/sync';
import { countAfter } from '../../client/data/rxdb';
import { storedCheckpoint } from '../../client/sync/checkpoint';
import type { Dispense } from '../../schemas/dispense';
import { startTestServer, type TestServer } from '../support/server';
import { inputFor, newBrowser } from './support';

// A pull may wait for another suite's transactions to end (see syncUntil): room for that.
jest.setTimeout(180_000);

let server: TestServer;
const opened: { db: DispenseDatabase; sync: SyncController }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('anna', 'site-pull');
  await server.addUser('ben', 'site-pull');
  await server.addUser('olga', 'site-other');
});
// Each test's devices closed after it: RxDB's open core allows 13 collections open at once.
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.sync.stop();
    if (!o.db.closed) await o.db.remove();
  }
});
afterAll(async () => {
  await server?.stop();
});

interface Device {
  db: DispenseDatabase;
  user: { username: string; siteId: string };
  /** One run, as "Sync now" starts it. */
  sync: () => Promise<void>;
  pending: () => Promise<number>;
  get: (id: string) => Promise<Dispense | undefined>;
}

async function device(username: string, siteId: string, fetchVia?: typeof fetch): Promise<Device> {
  const { token } = await server.login(username);
  const db = await newBrowser().open();
  const sync = startSync(db, { baseUrl: server.url, siteId, getToken: () => token, deviceId: `device-${username}`, fetch: fetchVia });
  opened.push({ db, sync });
  for (let i = 0; i < 200 && !db.isLeader(); i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 50)); // the leader's sync is set up after leadership
  return {
    db,
    user: { username, siteId },
    sync: () => sync.syncNow(),
    // What the panel counts, read now (the live count may not have caught up with a write yet).
    pending: () => countAfter(db.dispenses, storedCheckpoint(db.name)),
    get: async (id) => (await db.dispenses.findOne(id).exec())?.toJSON() as Dispense | undefined,
  };
}

const now = () => new Date().toISOString();

/**
 * Runs `dev`'s sync until `check` holds. A pull sees a change once every transaction older than
 * it has ended, in the whole PostgreSQL cluster (docs/decisions/pull-checkpoint.md): with other
 * test files pushing at the same time, that can take another run.
 */
async function syncUntil(dev: Device, what: string, check: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 45_000; Date.now() < end;) {
    await dev.sync();
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${dev.user.username} never got ${what}`);
}

test("what one device of a site pushes, the other pulls; pulled records are not pending; another site's device gets none", async () => {
  const a = await device('anna', 'site-pull');
  const b = await device('ben', 'site-pull');
  const other = await device('olga', 'site-other');
  const made = await createDispenses(
    a.db,
    [1, 2, 3].map((i) => inputFor(i, { dispensedAt: now() })),
    a.user,
  );
  await a.sync();
  expect(await a.pending()).toBe(0);

  await syncUntil(b, "A's records", async () => (await b.db.dispenses.count().exec()) === 3);
  for (const d of made) expect(await b.get(d.externalId)).toEqual(d);
  expect(await b.pending()).toBe(0);
  await other.sync();
  expect(await other.db.dispenses.count().exec()).toBe(0);

  // B edits one of A's records; A gets the edit in its next run, and nothing is pending anywhere.
  const edited = await editDispense(b.db, made[0].externalId, { quantity: 99 }, 'Corrected at the counter');
  expect(await b.pending()).toBe(1);
  await b.sync();
  await syncUntil(a, "B's edit", async () => (await a.get(made[0].externalId))?.quantity === 99);
  expect(await a.get(made[0].externalId)).toEqual(edited);
  expect([await a.pending(), await b.pending()]).toEqual([0, 0]);
  const [{ n }] = await server.db('dispenses').where({ site_id: 'site-pull' }).count({ n: '*' });
  expect(Number(n)).toBe(3);
});

test('both devices change a record before they sync: each ends with the version the rule picks, and the audit trail has every version', async () => {
  const a = await device('anna', 'site-pull');
  const b = await device('ben', 'site-pull');
  const [record] = await createDispenses(a.db, [inputFor(10, { dispensedAt: now() })], a.user);
  await a.sync();
  await syncUntil(b, 'the record', async () => !!(await b.get(record.externalId)));

  // A edits, then B voids: a void wins over an edit, whichever is later.
  await editDispense(a.db, record.externalId, { notes: 'Counselled on side effects' }, 'Corrected at the counter');
  const voided = await voidDispense(b.db, record.externalId, 'Dispensed to the wrong patient');
  await b.sync();
  await a.sync(); // A's edit meets B's void on the server: the void wins, A's edit is kept aside
  await syncUntil(a, "B's void", async () => (await a.get(record.externalId))?.status === 'voided');
  await b.sync();
  const onA = await a.get(record.externalId);
  expect(onA).toEqual(voided);
  expect(await b.get(record.externalId)).toEqual(voided);
  expect([await a.pending(), await b.pending()]).toEqual([0, 0]);
  const superseded = await a.db.syncmarks.findOne(record.externalId).exec();
  expect(JSON.parse(superseded!.superseded!)).toMatchObject({ notes: 'Counselled on side effects' });

  // Both edit again is impossible (voided); a second record: the later edit wins on both.
  const [second] = await createDispenses(a.db, [inputFor(11, { dispensedAt: now() })], a.user);
  await a.sync();
  await syncUntil(b, 'the second record', async () => !!(await b.get(second.externalId)));
  await editDispense(a.db, second.externalId, { quantity: 5 }, 'Corrected at the counter');
  await new Promise((r) => setTimeout(r, 5));
  const later = await editDispense(b.db, second.externalId, { quantity: 6 }, 'Corrected at the counter');
  await a.sync();
  await b.sync();
  await syncUntil(a, "B's later edit", async () => (await a.get(second.externalId))?.quantity === 6);
  expect(await a.get(second.externalId)).toEqual(later);
  expect(await b.get(second.externalId)).toEqual(later);
  const actions = await server.db('audit_logs').where({ entity_id: second.externalId }).orderBy('id').pluck('action');
  expect(actions).toEqual(['create', 'update', 'update']);
});

test("a push answered before another device's edit but noted after the pull met that edit does not leave this device on its older version", async () => {
  // RxDB's pull leaves alone a record whose local version is not yet noted as the server's, and
  // moves its checkpoint past it. Here anna's push of a new record reaches the server, ben edits
  // the record, anna's pull brings ben's edit, and only then is her push's answer given to RxDB:
  // the moment fault scenario 2 met about one run in three, in every run.
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let holdPush: Promise<unknown> | null = null;
  let holdPull: { until: Promise<void>; has: (page: { documents: Dispense[] }) => boolean; returned: () => void } | null = null;
  const fetchVia: typeof fetch = async (input, init) => {
    const url = String(input);
    if (holdPull && url.includes('/api/sync/dispenses/pull')) {
      const { until, has, returned } = holdPull;
      holdPull = null;
      await until;
      // A real answer of the server that holds ben's edit (a pull may wait for other transactions).
      for (let tries = 1; ; tries++) {
        const res = await fetch(input, init);
        const text = await res.text();
        if (has(JSON.parse(text) as { documents: Dispense[] }) || tries === 100) {
          returned();
          return new Response(text, { status: res.status, headers: res.headers });
        }
        await sleep(200);
      }
    }
    const res = await fetch(input, init);
    if (holdPush && url.includes('/api/sync/dispenses/push')) {
      const held = holdPush;
      holdPush = null;
      await held;
    }
    return res;
  };
  const a = await device('anna', 'site-pull', fetchVia);
  const b = await device('ben', 'site-pull');
  const [record] = await createDispenses(a.db, [inputFor(21, { dispensedAt: now() })], a.user);

  let benEdited = () => {};
  let pullReturned = () => {};
  holdPull = {
    until: new Promise<void>((r) => (benEdited = r)),
    has: (page) => page.documents.some((d) => d.externalId === record.externalId && d.quantity === 42),
    returned: () => pullReturned(),
  };
  // RxDB's pull looks at the page before the push's answer is noted (300 ms later).
  holdPush = new Promise<void>((r) => (pullReturned = r)).then(() => sleep(300));
  const run = a.sync();

  for (let t = 0; t < 100 && (await server.db('dispenses').where({ external_id: record.externalId })).length === 0; t++) await sleep(100);
  await syncUntil(b, "anna's record", async () => (await b.get(record.externalId)) !== undefined);
  const bens = await editDispense(b.db, record.externalId, { quantity: 42 }, 'Corrected at the counter');
  await b.sync();
  expect(await b.pending()).toBe(0);
  benEdited();
  await run;
  expect({ holdPull, holdPush }).toEqual({ holdPull: null, holdPush: null }); // both were held in that run
  expect(await a.get(record.externalId)).toEqual(bens);
  await a.sync();
  expect(await a.get(record.externalId)).toEqual(bens);
  expect(await a.pending()).toBe(0);
});

test('a pull page read before this device pushed an edit does not take the record back to the older version', async () => {
  // The page is read on the server, the device pushes its edit and RxDB notes it as the server's,
  // then RxDB writes the page: here the page is an earlier answer of the server, held until the
  // push is answered, so the moment that was rare under load happens in every run.
  let holdPull: { page: string; pushed: Promise<void> } | null = null;
  let pushAnswered = () => {};
  const fetchVia: typeof fetch = async (input, init) => {
    const url = String(input);
    const res = await fetch(input, init);
    if (url.includes('/api/sync/dispenses/push')) pushAnswered();
    if (!holdPull || !url.includes('/api/sync/dispenses/pull')) return res;
    const { page, pushed } = holdPull;
    holdPull = null;
    await pushed;
    await new Promise((r) => setTimeout(r, 300)); // RxDB notes the pushed version as the server's
    return new Response(page, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const a = await device('anna', 'site-pull', fetchVia);
  const [record] = await createDispenses(a.db, [inputFor(20, { dispensedAt: now() })], a.user);
  await a.sync();
  expect(await a.pending()).toBe(0);

  const { token } = await server.login('anna');
  // A pull reads below the cluster's oldest open transaction (server/pull.ts): with other suites
  // running, a page can lag the push by a moment. Read until it holds the first version.
  const readPage = async () =>
    (await fetch(`${server.url}/api/sync/dispenses/pull?limit=1000`, { headers: { authorization: `Bearer ${token}` } })).text();
  const holds = (text: string) => (JSON.parse(text).documents as Dispense[]).some((d) => d.externalId === record.externalId);
  let page = await readPage();
  for (const started = Date.now(); !holds(page); page = await readPage()) {
    if (Date.now() - started > 30_000) throw new Error('no pull page held the pushed record within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(JSON.parse(page).documents).toContainEqual(record); // the page holds the first version

  const edited = await editDispense(a.db, record.externalId, { quantity: 42 }, 'Corrected at the counter');
  holdPull = { page, pushed: new Promise<void>((r) => (pushAnswered = r)) };
  await a.sync();
  expect(holdPull).toBeNull(); // the held page was answered in that run
  expect(await a.get(record.externalId)).toEqual(edited);
  expect(await a.pending()).toBe(0);
  const [held] = await server.db('dispenses').where({ external_id: record.externalId }).select('quantity');
  expect(held.quantity).toBe(42);

  // The next run pulls the record's latest version again from the page's older checkpoint: still the edit.
  await a.sync();
  expect(await a.get(record.externalId)).toEqual(edited);
});
