/**
 * Two devices of one site, in Node: RxDB on fake-indexeddb, the real server and PostgreSQL. What
 * one device pushes, the other pulls in its next run; pulled records are not pending; edits on
 * both settle by the one conflict rule; another site's device gets nothing.
 */
import '../support/local-storage';
import { createDispenses, editDispense, voidDispense } from '../../client/data/records';
import type { Dispense } from '../../schemas/dispense';
import { inputFor, openDevice, type Device } from '../support/device';
import { eventually } from '../support/eventually';
import { recordCounts, auditActions } from '../support/inspect';
import { startTestServer, type TestServer } from '../support/server';

// A pull may wait for another suite's transactions to end (see syncUntil): room for that.
jest.setTimeout(180_000);

let server: TestServer;
const opened: Device[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('anna', 'site-pull');
  await server.addUser('ben', 'site-pull');
  await server.addUser('olga', 'site-other');
});
// Each test's devices closed after it: RxDB's open core allows 13 collections open at once.
afterEach(async () => {
  for (const d of opened.splice(0)) await d.remove();
});
afterAll(async () => {
  await server?.stop();
});

/** A device of `username`, signed in, leading its sync, with the app's own scheduler. */
async function device(username: string, siteId: string, fetchVia?: typeof fetch): Promise<Device> {
  const { token } = await server.login(username);
  const d = await openDevice({
    name: username,
    baseUrl: server.url,
    user: { username, siteId },
    getToken: () => token,
    fetch: fetchVia,
    scheduler: {},
  });
  opened.push(d);
  return d;
}

const now = () => new Date().toISOString();

/** Runs `dev`'s sync until `check` holds (a pull may need another run: the harness's syncUntil). */
const syncUntil = (dev: Device, what: string, check: () => Promise<boolean>) => dev.syncUntil(what, check);

test("what one device of a site pushes, the other pulls; pulled records are not pending; another site's device gets none", async () => {
  const a = await device('anna', 'site-pull');
  const b = await device('ben', 'site-pull');
  const other = await device('olga', 'site-other');
  const made = await createDispenses(
    a.db,
    [1, 2, 3].map((i) => inputFor(i, { dispensedAt: now() })),
    a.user,
  );
  await a.syncNow();
  expect(await a.pending()).toBe(0);

  await syncUntil(b, "A's records", async () => (await b.db.dispenses.count().exec()) === 3);
  for (const d of made) expect(await b.get(d.externalId)).toEqual(d);
  expect(await b.pending()).toBe(0);
  await other.syncNow();
  expect(await other.db.dispenses.count().exec()).toBe(0);

  // B edits one of A's records; A gets the edit in its next run, and nothing is pending anywhere.
  const edited = await editDispense(b.db, made[0].externalId, { quantity: 99 }, 'Corrected at the counter');
  expect(await b.pending()).toBe(1);
  await b.syncNow();
  await syncUntil(a, "B's edit", async () => (await a.get(made[0].externalId))?.quantity === 99);
  expect(await a.get(made[0].externalId)).toEqual(edited);
  expect([await a.pending(), await b.pending()]).toEqual([0, 0]);
  expect((await recordCounts(server.database!.url, 'site-pull')).records).toBe(3);
});

test('both devices change a record before they sync: each ends with the version the rule picks, and the audit trail has every version', async () => {
  const a = await device('anna', 'site-pull');
  const b = await device('ben', 'site-pull');
  const [record] = await createDispenses(a.db, [inputFor(10, { dispensedAt: now() })], a.user);
  await a.syncNow();
  await syncUntil(b, 'the record', async () => !!(await b.get(record.externalId)));

  // A edits, then B voids: a void wins over an edit, whichever is later.
  await editDispense(a.db, record.externalId, { notes: 'Counselled on side effects' }, 'Corrected at the counter');
  const voided = await voidDispense(b.db, record.externalId, 'Dispensed to the wrong patient');
  await b.syncNow();
  await a.syncNow(); // A's edit meets B's void on the server: the void wins, A's edit is kept aside
  await syncUntil(a, "B's void", async () => (await a.get(record.externalId))?.status === 'voided');
  await b.syncNow();
  const onA = await a.get(record.externalId);
  expect(onA).toEqual(voided);
  expect(await b.get(record.externalId)).toEqual(voided);
  expect([await a.pending(), await b.pending()]).toEqual([0, 0]);
  const superseded = await a.db.syncmarks.findOne(record.externalId).exec();
  expect(JSON.parse(superseded!.superseded!)).toMatchObject({ notes: 'Counselled on side effects' });

  // Both edit again is impossible (voided); a second record: the later edit wins on both.
  const [second] = await createDispenses(a.db, [inputFor(11, { dispensedAt: now() })], a.user);
  await a.syncNow();
  await syncUntil(b, 'the second record', async () => !!(await b.get(second.externalId)));
  const earlier = await editDispense(a.db, second.externalId, { quantity: 5 }, 'Corrected at the counter');
  await eventually(() => Date.now() > Date.parse(earlier.updatedAt), { what: "an instant after A's edit" });
  const later = await editDispense(b.db, second.externalId, { quantity: 6 }, 'Corrected at the counter');
  await a.syncNow();
  await b.syncNow();
  await syncUntil(a, "B's later edit", async () => (await a.get(second.externalId))?.quantity === 6);
  expect(await a.get(second.externalId)).toEqual(later);
  expect(await b.get(second.externalId)).toEqual(later);
  expect(await auditActions(server.database!.url, second.externalId)).toEqual(['create', 'update', 'update']);
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
      // A real answer of the server that holds ben's edit (a pull may wait for other transactions);
      // the last answer if none does in time, for the assertions to show.
      let answer = { text: '', status: 0, headers: new Headers() };
      await eventually(
        async () => {
          const res = await fetch(input, init);
          answer = { text: await res.text(), status: res.status, headers: res.headers };
          return has(JSON.parse(answer.text) as { documents: Dispense[] });
        },
        { timeout: 20_000, interval: 200, what: "a pull answer with ben's edit" },
      ).catch(() => {});
      returned();
      return new Response(answer.text, { status: answer.status, headers: answer.headers });
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
  // RxDB's pull looks at the page before the push's answer is noted (300 ms later): the order of
  // the race under test, which no event of the app marks (it is inside RxDB), so a fixed delay.
  holdPush = new Promise<void>((r) => (pullReturned = r)).then(() => sleep(300));
  const run = a.syncNow();

  await eventually(async () => (await server.db('dispenses').where({ external_id: record.externalId })).length > 0, {
    what: "anna's record on the server",
  }).catch(() => {});
  await syncUntil(b, "anna's record", async () => (await b.get(record.externalId)) !== undefined);
  const bens = await editDispense(b.db, record.externalId, { quantity: 42 }, 'Corrected at the counter');
  await b.syncNow();
  expect(await b.pending()).toBe(0);
  benEdited();
  await run;
  expect({ holdPull, holdPush }).toEqual({ holdPull: null, holdPush: null }); // both were held in that run
  expect(await a.get(record.externalId)).toEqual(bens);
  await a.syncNow();
  expect(await a.get(record.externalId)).toEqual(bens);
  expect(await a.pending()).toBe(0);
});

test('a pull page read before this device pushed an edit does not take the record back to the older version', async () => {
  // The page is read on the server, the device pushes its edit and RxDB notes it as the server's,
  // then RxDB writes the page: here the page is an earlier answer of the server, held until the
  // push is answered, so the moment that was rare under load happens in every run.
  let holdPull: { page: string; pushed: Promise<void>; checkpointBefore: string } | null = null;
  let pushAnswered = () => {};
  const fetchVia: typeof fetch = async (input, init) => {
    const url = String(input);
    const res = await fetch(input, init);
    if (url.includes('/api/sync/dispenses/push')) pushAnswered();
    if (!holdPull || !url.includes('/api/sync/dispenses/pull')) return res;
    const { page, pushed, checkpointBefore } = holdPull;
    holdPull = null;
    await pushed;
    // RxDB notes the pushed version as the server's, then stores its push checkpoint: wait for that.
    await eventually(() => JSON.stringify(a.pushCheckpoint()) !== checkpointBefore, { what: 'the push checkpoint after the edit' });
    return new Response(page, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const a = await device('anna', 'site-pull', fetchVia);
  const [record] = await createDispenses(a.db, [inputFor(20, { dispensedAt: now() })], a.user);
  await a.syncNow();
  expect(await a.pending()).toBe(0);

  const { token } = await server.login('anna');
  // A pull reads below the cluster's oldest open transaction (server/pull.ts): with other suites
  // running, a page can lag the push by a moment. Read until it holds the first version.
  const readPage = async () =>
    (await fetch(`${server.url}/api/sync/dispenses/pull?limit=1000`, { headers: { authorization: `Bearer ${token}` } })).text();
  const holds = (text: string) => (JSON.parse(text).documents as Dispense[]).some((d) => d.externalId === record.externalId);
  let page = '';
  await eventually(async () => holds((page = await readPage())), { interval: 100, what: 'a pull page with the pushed record' });
  expect(JSON.parse(page).documents).toContainEqual(record); // the page holds the first version

  const edited = await editDispense(a.db, record.externalId, { quantity: 42 }, 'Corrected at the counter');
  holdPull = { page, pushed: new Promise<void>((r) => (pushAnswered = r)), checkpointBefore: JSON.stringify(a.pushCheckpoint()) };
  await a.syncNow();
  expect(holdPull).toBeNull(); // the held page was answered in that run
  expect(await a.get(record.externalId)).toEqual(edited);
  expect(await a.pending()).toBe(0);
  const [held] = await server.db('dispenses').where({ external_id: record.externalId }).select('quantity');
  expect(held.quantity).toBe(42);

  // The next run pulls the record's latest version again from the page's older checkpoint: still the edit.
  await a.syncNow();
  expect(await a.get(record.externalId)).toEqual(edited);
});
