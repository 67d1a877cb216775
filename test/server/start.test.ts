import net from 'node:net';
import pg from 'pg';
import { migrationSource } from '../../migrations';
import { makeDispense } from '../support/records';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer } from '../support/server';
import { call, push, pushBody } from '../support/api';
import { openCounter } from './counter';
import { eventually } from '../support/eventually';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
});

async function freshDatabase(): Promise<TestDatabase> {
  const d = await createTestDatabase();
  databases.push(d);
  return d;
}

/** Connections PostgreSQL holds open to `name`, read from another database. */
async function connectionsTo(name: string): Promise<number> {
  const admin = new URL(databases[0].url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

test('when the port is taken, the start fails with EADDRINUSE and closes its database connections', async () => {
  const database = await freshDatabase();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as net.AddressInfo;
  try {
    await expect(startTestServer({ PORT: String(port) }, { database })).rejects.toThrow(/EADDRINUSE/);
  } finally {
    blocker.close();
  }
  // It migrated the database first, so it had connections; none may stay open.
  const counter = openCounter(database.url);
  const [migrated] = await counter.query('SELECT count(*)::int AS n FROM knex_migrations');
  await counter.close();
  expect(migrated.n).toBe((await migrationSource.getMigrations([])).length);
  await eventually(async () => (await connectionsTo(database.name)) === 0, { timeout: 5000, what: 'no connection left to the database' });
});

test('when the server is closed during a push, the push finishes and lands, new requests are refused, and the pool is released', async () => {
  const database = await freshDatabase();
  const server = await startTestServer({}, { database });
  await server.addUser('alice', 'site-a');
  const { token } = await server.login('alice');
  const batch = Array.from({ length: 1000 }, (_, i) => makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, i));

  const arrived = new Promise((resolve) => server.server.once('request', resolve));
  const inFlight = push(server.url, token, pushBody(batch));
  await arrived; // the server has the request (its body may still be on the way)
  const closed = server.close();
  const res = await inFlight;
  const answeredAt = Date.now();
  await closed;
  // Closing waits for the push, not for the idle keep-alive connection it leaves (5 s).
  expect(Date.now() - answeredAt).toBeLessThan(2000);

  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
  const counter = openCounter(database.url);
  expect(await counter.counts()).toEqual({ dispenses: 1000, audit: 1000 });
  await counter.close();
  await expect(call(server.url, 'GET', '/api/health')).rejects.toThrow();
  await eventually(async () => (await connectionsTo(database.name)) === 0, { timeout: 5000, what: 'no connection left to the database' });
});
