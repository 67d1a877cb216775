import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../support/records';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, type TestServer } from '../support/server';
import { push, pushBody } from '../support/api';
import { openCounter, type Counter } from './counter';

// Two server instances on one PostgreSQL, as behind a load balancer: the database alone must
// make each record land once, however the pushes interleave.
let database: TestDatabase;
let one: TestServer;
let two: TestServer;
let counter: Counter;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  one = await startTestServer({}, { database });
  two = await startTestServer({}, { database });
  counter = openCounter(database.url);
  await one.addUser('alice', 'site-a');
  token = (await two.login('alice')).token; // a token of one instance is good on the other
});

afterAll(async () => {
  await counter?.close();
  await one?.stop();
  await two?.stop();
  await database?.drop();
});

const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, from + i));

async function auditPerRecord(ids: string[], action: string): Promise<Map<string, number>> {
  const rows = await counter.query<{ id: string; n: number }>(
    'SELECT entity_id AS id, count(*)::int AS n FROM audit_logs WHERE action = $1 AND entity_id = ANY($2::uuid[]) GROUP BY entity_id',
    [action, ids],
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

test('when both instances push overlapping batches of new records at once, each record lands once with one create audit row', async () => {
  const all = records(600);
  const before = await counter.counts();
  // Overlaps: 200-399 in both halves; every batch is also sent twice, as a retrying client would.
  const results = await Promise.all([
    push(one.url, token, pushBody(all.slice(0, 400))),
    push(two.url, token, pushBody(all.slice(200, 600))),
    push(two.url, token, pushBody(all.slice(0, 400))),
    push(one.url, token, pushBody(all.slice(200, 600).reverse())),
  ]);
  for (const res of results) expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });

  expect(await counter.counts()).toEqual({ dispenses: before.dispenses + 600, audit: before.audit + 600 });
  const creates = await auditPerRecord(
    all.map((d) => d.externalId),
    'create',
  );
  expect(creates.size).toBe(600);
  expect([...creates.values()].every((n) => n === 1)).toBe(true);
  const [dupes] = await counter.query(
    'SELECT count(*)::int AS n FROM (SELECT external_id FROM dispenses GROUP BY external_id HAVING count(*) > 1) d',
  );
  expect(dupes.n).toBe(0);
});

test('when both instances push the same edit at once, the record is updated once with one update audit row', async () => {
  const base = records(300, 1000);
  expect((await push(one.url, token, pushBody(base))).status).toBe(200);
  const edited = base.map((d) => ({ ...d, quantity: 7, updatedAt: '2026-11-26T09:00:00.000Z' }));
  const before = await counter.counts();

  const results = await Promise.all([
    push(one.url, token, pushBody(edited, base)),
    push(two.url, token, pushBody(edited, base)),
    push(two.url, token, pushBody(edited.slice(100), base.slice(100))),
  ]);
  for (const res of results) expect(res.body).toEqual({ conflicts: [], rejected: [] });

  expect(await counter.counts()).toEqual({ dispenses: before.dispenses, audit: before.audit + 300 });
  const updates = await auditPerRecord(
    base.map((d) => d.externalId),
    'update',
  );
  expect(updates.size).toBe(300);
  expect([...updates.values()].every((n) => n === 1)).toBe(true);
});

test('when two devices push different edits of the same records at once, each record takes one of them and the other gets a conflict', async () => {
  const base = records(300, 2000);
  expect((await push(one.url, token, pushBody(base))).status).toBe(200);
  const x = base.slice(0, 200).map((d): Dispense => ({ ...d, quantity: 10, updatedAt: '2026-11-26T10:00:00.000Z' }));
  const y = base.slice(100, 300).map((d): Dispense => ({ ...d, quantity: 20, updatedAt: '2026-11-26T10:00:01.000Z' }));
  const before = await counter.counts();

  const [rx, ry] = await Promise.all([
    push(one.url, token, pushBody(x, base.slice(0, 200))),
    push(two.url, token, pushBody(y, base.slice(100, 300))),
  ]);
  expect(rx.status).toBe(200);
  expect(ry.status).toBe(200);
  expect([...rx.body.rejected, ...ry.body.rejected]).toEqual([]);

  // Records 100-199 were edited by both: exactly one edit won each, the other side got the winner back.
  const conflicts = [...rx.body.conflicts, ...ry.body.conflicts] as Dispense[];
  expect(conflicts).toHaveLength(100);
  expect(await counter.counts()).toEqual({ dispenses: before.dispenses, audit: before.audit + 300 });
  const updates = await auditPerRecord(
    base.map((d) => d.externalId),
    'update',
  );
  expect([...updates.values()].every((n) => n === 1)).toBe(true);
  expect(updates.size).toBe(300);

  const stored = await counter.query<{ id: string; quantity: number }>(
    'SELECT external_id AS id, quantity FROM dispenses WHERE external_id = ANY($1::uuid[])',
    [conflicts.map((c) => c.externalId)],
  );
  const storedQuantity = new Map(stored.map((s) => [s.id, s.quantity]));
  for (const c of conflicts) expect(storedQuantity.get(c.externalId)).toBe(c.quantity);
});
