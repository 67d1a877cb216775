import pg from 'pg';
import { pullResponseSchema, syncStatusSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { migrationSource } from '../../migrations';
import { openDatabase } from '../../server/db';
import { createTestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { call, expectError, pull, pullAll, push, pushBody } from '../support/api';
import { eventually } from '../support/eventually';

let server: TestServer;
let alice: string; // site-a
let bob: string; // site-a
let zed: string; // site-b
const DAY = 86_400_000;
const now = Date.now();
const ago = (ms: number) => new Date(now - ms).toISOString();

/** A record of the site dispensed `msAgo` before the test began. */
const record = (msAgo: number, overrides: Partial<Dispense> = {}): Dispense =>
  makeDispense({ siteId: 'site-a', dispensedBy: 'alice', dispensedAt: ago(msAgo), updatedAt: ago(msAgo), expiryDate: '2030-01-01', ...overrides });

// Five records of site-a in the window (the newest an hour old, one at 89 days), two older than
// the window's 90 days, and three of site-b.
const inWindow = [1 / 24, 1, 2, 30, 89].map((days) => record(days * DAY));
const old = [91, 400].map((days) => record(days * DAY));
const siteB = [1, 2, 3].map((days) => record(days * DAY, { siteId: 'site-b', dispensedBy: 'zed' }));
const newestFirst = (docs: Dispense[]) => [...docs].sort((a, b) => b.dispensedAt.localeCompare(a.dispensedAt));
const ids = (docs: Dispense[]) => docs.map((d) => d.externalId);
/** Notes the latest version of records in a list of what the site holds. */
const replace = (list: Dispense[], ...docs: Dispense[]) => {
  for (const d of docs) list[list.findIndex((x) => x.externalId === d.externalId)] = d;
};

/**
 * Waits until every transaction older than the last write to this database has ended, on the whole
 * PostgreSQL server (other test files write there too): a first pull's window then holds every
 * record written so far, and the assertions on it do not depend on what else the server runs.
 */
async function settled(s: TestServer): Promise<void> {
  const client = new pg.Client({ connectionString: s.database!.url });
  await client.connect();
  try {
    const sql = "SELECT pg_snapshot_xmin(pg_current_snapshot()) > coalesce(max(change_xid), '0') AS ok FROM dispenses";
    // Generous: another suite's (or a benchmark's) long transaction holds every pull back meanwhile.
    await eventually(async () => (await client.query<{ ok: boolean }>(sql)).rows[0].ok, {
      timeout: 60_000,
      interval: 20,
      what: 'older transactions to end',
    });
  } finally {
    await client.end();
  }
}

async function pushed(token: string, docs: Dispense[], assumed?: Dispense[]): Promise<void> {
  const res = await push(server.url, token, pushBody(docs, assumed));
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
}

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'site-a');
  await server.addUser('bob', 'site-a');
  await server.addUser('zed', 'site-b');
  [alice, bob, zed] = await Promise.all(['alice', 'bob', 'zed'].map(async (u) => (await server.login(u)).token));
  await pushed(alice, [...inWindow.slice(0, 3), old[0]]);
  await pushed(zed, siteB);
  await pushed(alice, [...inWindow.slice(3), old[1]]);
  await settled(server);
});

afterAll(async () => {
  await server?.stop();
});

describe('a first pull', () => {
  test("with no checkpoint, it delivers the site's records dispensed in the last 90 days, newest first, and none of another site's", async () => {
    const a = await pullAll(server.url, alice, { until: ids(inWindow) });
    expect(a.documents).toEqual(newestFirst(inWindow));
    const b = await pullAll(server.url, zed, { until: ids(siteB) });
    expect(b.documents).toEqual(newestFirst(siteB));
  });

  test('an empty checkpoint is a first pull too', async () => {
    const r = await pull(server.url, bob, '', 1000);
    expect(r.status).toBe(200);
    expect(pullResponseSchema.parse(r.body).documents).toEqual(newestFirst(inWindow));
  });

  test('paged two at a time with the checkpoint, it returns every record of the window exactly once', async () => {
    const a = await pullAll(server.url, alice, { limit: 2, until: ids(inWindow) });
    expect(a.pages.slice(0, 3)).toEqual([2, 2, 1]);
    expect(a.documents).toEqual(newestFirst(inWindow));
  });

  test("each page of a first pull says how many of the window's records have been sent, of how many, up to all of them", async () => {
    const seen: unknown[] = [];
    let checkpoint: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = pullResponseSchema.parse((await pull(server.url, alice, checkpoint, 2)).body);
      seen.push(r.window ?? null);
      checkpoint = r.checkpoint;
    }
    const total = inWindow.length;
    expect(seen.slice(0, 3)).toEqual([
      { sent: 2, total },
      { sent: 4, total },
      { sent: total, total },
    ]);
    expect(seen.slice(3)).toEqual([null, null]); // after the window: changes only
  });

  test('records changed or made while a first pull pages reach the device in their latest version, the others once', async () => {
    const first = pullResponseSchema.parse((await pull(server.url, bob, undefined, 2)).body);
    expect(first.documents).toEqual(newestFirst(inWindow).slice(0, 2));
    const [sent, unsent] = [first.documents[0], newestFirst(inWindow)[3]];
    const sentEdit = { ...sent, notes: 'edited after it was pulled', updatedAt: ago(-1000) };
    const unsentEdit = { ...unsent, notes: 'edited before it was pulled', updatedAt: ago(-1000) };
    const fresh = record(0);
    await pushed(alice, [sentEdit, unsentEdit], [sent, unsent]);
    await pushed(alice, [fresh]);

    const rest = await pullAll(server.url, bob, { checkpoint: first.checkpoint, limit: 2, until: ids([fresh, sentEdit, unsentEdit]) });
    const all = [...first.documents, ...rest.documents];
    const latest = new Map(all.map((d) => [d.externalId, d]));
    expect(latest.get(sent.externalId)).toEqual(sentEdit);
    expect(latest.get(unsent.externalId)).toEqual(unsentEdit);
    expect(latest.get(fresh.externalId)).toEqual(fresh);
    // The record edited after it was sent comes twice (old, then new version); every other once.
    expect(all.filter((d) => d.externalId !== sent.externalId).length).toBe(latest.size - 1);
    expect(all.filter((d) => d.externalId === sent.externalId)).toEqual([sent, sentEdit]);
    replace(inWindow, unsentEdit, sentEdit);
    inWindow.push(fresh);
  });
});

describe('after the first pull', () => {
  let checkpoint: string;
  let zedCheckpoint: string;
  beforeAll(async () => {
    checkpoint = (await pullAll(server.url, alice, { until: ids(inWindow) })).checkpoint;
    zedCheckpoint = (await pullAll(server.url, zed, { until: ids(siteB) })).checkpoint;
  });

  test('an empty pull returns the same checkpoint, and again', async () => {
    const first = await pull(server.url, alice, checkpoint, 100);
    expect(first.body).toEqual({ documents: [], checkpoint });
    expect((await pull(server.url, alice, checkpoint, 100)).body).toEqual({ documents: [], checkpoint });
  });

  test("edits and voids come in the order they were made, a record older than the window's too, and another site sees none of them", async () => {
    const [a, b] = [inWindow[0], inWindow[1]];
    const editA = { ...a, quantity: 7, updatedAt: ago(-2000) };
    const voidOld = { ...old[1], status: 'voided' as const, voidReason: 'Wrong patient', updatedAt: ago(-2000) };
    const editB = { ...b, notes: 'checked', updatedAt: ago(-2000) };
    const againA = { ...editA, quantity: 8, updatedAt: ago(-3000) };
    await pushed(alice, [editA], [a]);
    await pushed(bob, [voidOld], [old[1]]);
    await pushed(alice, [editB], [b]);
    await pushed(bob, [againA], [editA]);

    const r = await pullAll(server.url, alice, { checkpoint, until: ids([voidOld, editB, againA]) });
    // editA was overtaken by againA: a record comes once, in its latest version, at its last change.
    expect(r.documents).toEqual([voidOld, editB, againA]);
    expect((await pull(server.url, zed, zedCheckpoint, 100)).body).toEqual({ documents: [], checkpoint: zedCheckpoint });
    checkpoint = r.checkpoint;
    replace(inWindow, againA, editB);
    replace(old, voidOld);
  });

  test('a checkpoint ahead of the transaction ids of this PostgreSQL (a database restored into a new server) begins again as a first pull', async () => {
    await settled(server);
    const ahead = Buffer.from(JSON.stringify({ c: { x: '9000000000000000000' } })).toString('base64url');
    const r = pullResponseSchema.parse((await pull(server.url, alice, ahead, 1000)).body);
    expect(r.documents).toEqual(newestFirst(inWindow));
    expect(r.checkpoint).not.toBe(ahead);
  });

  test('a push that changes nothing moves nothing: the next pull is empty', async () => {
    await pushed(alice, [inWindow[0]], [inWindow[0]]);
    expect((await pull(server.url, alice, checkpoint, 100)).body).toEqual({ documents: [], checkpoint });
  });
});

describe('late commit', () => {
  test('a push that started first and commits after a second push is still delivered: a pull between them and one after give both, nothing twice', async () => {
    const start = await pullAll(server.url, alice, { until: ids(inWindow) });
    const held = inWindow[2];
    const early = record(0);
    const late = record(0);
    const heldEdit = { ...held, notes: 'edited by the slow push', updatedAt: ago(-5000) };

    // Hold the row lock of a record push A edits: A inserts its new record, then waits for the lock.
    const holder = new pg.Client({ connectionString: server.database!.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM dispenses WHERE external_id = $1 FOR UPDATE', [held.externalId]);
      const pushA = push(server.url, alice, pushBody([early, heldEdit], [null, held]));
      await eventually(
        async () =>
          (await holder.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))
            .rows[0].n === 1,
        { timeout: 10_000, interval: 20, what: 'the push to wait on the held lock' },
      );

      // Push B starts after A and commits before it.
      await pushed(bob, [late]);
      const visible = await holder.query('SELECT external_id FROM dispenses WHERE external_id = ANY($1::uuid[])', [
        [early.externalId, late.externalId],
      ]);
      expect(visible.rows.map((r) => r.external_id)).toEqual([late.externalId]); // B committed, A not yet

      const between = pullResponseSchema.parse((await pull(server.url, alice, start.checkpoint, 1000)).body);
      expect(ids(between.documents)).not.toContain(early.externalId);

      await holder.query('COMMIT');
      const a = await pushA;
      expect({ status: a.status, body: a.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });

      const owed = ids([early, late, heldEdit]).filter((id) => !ids(between.documents).includes(id));
      const after = await pullAll(server.url, alice, { checkpoint: between.checkpoint, until: owed });
      const both = [...between.documents, ...after.documents];
      expect(ids(both).sort()).toEqual(ids([early, late, heldEdit]).sort());
      expect(both.find((d) => d.externalId === held.externalId)).toEqual(heldEdit);
    } finally {
      await holder.end();
    }
    inWindow.push(early, late);
    replace(inWindow, heldEdit);
  });

  test('many pushes in flight at once while a device pulls: every record reaches it exactly once', async () => {
    const { checkpoint } = await pullAll(server.url, bob, { until: ids(inWindow) });
    const batches = Array.from({ length: 8 }, () => Array.from({ length: 25 }, () => record(0)));
    const all = batches.flat();
    let pulling = true;
    let cp = checkpoint;
    const got: Dispense[] = [];
    const puller = (async () => {
      while (pulling) {
        const page = pullResponseSchema.parse((await pull(server.url, bob, cp, 7)).body);
        got.push(...page.documents);
        cp = page.checkpoint;
      }
    })();
    await Promise.all(batches.map((batch, i) => pushed(i % 2 ? alice : bob, batch)));
    pulling = false;
    await puller;
    const rest = await pullAll(server.url, bob, { checkpoint: cp, until: ids(all).filter((id) => !ids(got).includes(id)) });
    got.push(...rest.documents);
    expect(ids(got).sort()).toEqual(ids(all).sort());
    inWindow.push(...all);
  });
});

describe('bad input', () => {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  test.each([
    ['a checkpoint that is not base64 JSON', 'checkpoint=garbage'],
    ['a checkpoint of the wrong shape', `checkpoint=${json({ c: { x: 12 } })}`],
    ['a checkpoint with a transaction id beyond 2^63', `checkpoint=${json({ c: { x: '9999999999999999999' } })}`],
    ['a checkpoint whose transaction id is not a number', `checkpoint=${json({ c: { x: "'; DROP TABLE dispenses; --" } })}`],
    ['a checkpoint with an id that is not a UUID', `checkpoint=${json({ c: { x: '5', id: 'x' } })}`],
    ['a window checkpoint with a bad instant', `checkpoint=${json({ w: { h: '5', since: '2026-02-30T00:00:00.000Z' } })}`],
    ['a checkpoint with an extra key', `checkpoint=${json({ c: { x: '5' }, site: 'site-b' })}`],
    ['a checkpoint given twice', 'checkpoint=a&checkpoint=b'],
    ['a limit of 0', 'limit=0'],
    ['a limit over 1000', 'limit=1001'],
    ['a limit that is not a number', 'limit=ten'],
    ['a fractional limit', 'limit=2.5'],
  ])('%s answers 400 invalid_request', async (_what, query) => {
    expectError(await call(server.url, 'GET', `/api/sync/dispenses/pull?${query}`, { token: alice }), 400, 'invalid_request');
  });

  test('without a token it answers 401 token_missing', async () => {
    expectError(await call(server.url, 'GET', '/api/sync/dispenses/pull'), 401, 'token_missing');
  });
});

describe('the window setting', () => {
  let seven: TestServer;
  beforeAll(async () => {
    seven = await startTestServer({ PULL_WINDOW_DAYS: '7', DUPLICATE_WINDOW_HOURS: '12' });
    await seven.addUser('alice', 'site-a');
  });
  afterAll(async () => {
    await seven?.stop();
  });

  test('with PULL_WINDOW_DAYS=7 a first pull holds the last 7 days only, and the sync status gives the client both windows', async () => {
    const token = (await seven.login('alice')).token;
    const docs = [1, 6, 8, 30].map((days) => record(days * DAY));
    const res = await push(seven.url, token, pushBody(docs));
    expect(res.body).toEqual({ conflicts: [], rejected: [] });
    await settled(seven);
    expect((await pullAll(seven.url, token, { until: ids(docs.slice(0, 2)) })).documents).toEqual(docs.slice(0, 2));
    const status = syncStatusSchema.parse((await call(seven.url, 'GET', '/api/sync/status', { token })).body);
    expect(status).toMatchObject({ pullWindowDays: 7, duplicateWindowHours: 12 });
  });
});

describe('an existing database', () => {
  test('records stored before the change-order migration are in a first pull, and an edit of one comes after it', async () => {
    const database = await createTestDatabase();
    const db = await openDatabase({ url: database.url, dataDir: 'unused', poolMax: 2 });
    const before = [record(DAY), record(2 * DAY)];
    try {
      await db.migrate.up({ migrationSource }); // the first migration only: the schema of earlier releases
      await db('dispenses').insert(
        before.map((d) => ({
          external_id: d.externalId,
          site_id: d.siteId,
          patient_id: d.patientId,
          medication_code: d.medicationCode,
          medication_name: d.medicationName,
          quantity: d.quantity,
          unit: d.unit,
          dispensed_at: d.dispensedAt,
          dispensed_by: d.dispensedBy,
          status: d.status,
          updated_at: d.updatedAt,
        })),
      );
    } finally {
      await db.destroy();
    }
    const upgraded = await startTestServer({}, { database });
    try {
      await upgraded.addUser('bob', 'site-a');
      const token = (await upgraded.login('bob')).token;
      const stored = before.map(({ patientName: _n, batchNumber: _b, expiryDate: _e, ...d }) => d); // the columns written above
      const first = await pullAll(upgraded.url, token);
      expect(first.documents).toEqual(stored);
      // The upgrade counted the site's records (site_sync.records), which the status reads.
      const status = (await fetch(`${upgraded.url}/api/sync/status`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json())) as {
        totalRecords: number;
        siteRecords: number;
      };
      expect(status).toMatchObject({ totalRecords: 2, siteRecords: 2 });
      const edited = { ...stored[1], notes: 'after the upgrade', updatedAt: new Date(Date.parse(stored[1].updatedAt) + 1).toISOString() };
      expect((await push(upgraded.url, token, pushBody([edited], [stored[1]]))).body).toEqual({ conflicts: [], rejected: [] });
      expect((await pullAll(upgraded.url, token, { checkpoint: first.checkpoint, until: [edited.externalId] })).documents).toEqual([edited]);
    } finally {
      await upgraded.close();
      await database.drop();
    }
  });
});
