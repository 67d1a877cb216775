import { makeDispense } from '../support/records';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, type TestServer } from '../support/server';
import * as tcpProxy from '../support/tcp-proxy';
import { call, expectError, push, pushBody } from '../support/api';
import { openCounter, type Counter } from './counter';

// The server reaches PostgreSQL only through a proxy the test can cut; the test counts rows
// over a direct connection, so it sees what PostgreSQL really holds.
let database: TestDatabase;
let proxy: tcpProxy.TcpProxy;
let server: TestServer;
let counter: Counter;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const direct = new URL(database.url);
  proxy = await tcpProxy.start(Number(direct.port || 5432), direct.hostname);
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  server = await startTestServer({ DATABASE_URL: viaProxy.toString() }, { database });
  counter = openCounter(database.url);
  await server.addUser('alice', 'site-a');
  token = (await server.login('alice')).token;
});

afterAll(async () => {
  await counter?.close();
  await server?.stop();
  await proxy?.close();
  await database?.drop();
});

afterEach(() => proxy.restore());

const records = (n: number, from = 0) => Array.from({ length: n }, (_, i) => makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, from + i));

test('with the database reachable, health answers 200 ok/up through the proxy', async () => {
  const res = await call(server.url, 'GET', '/api/health');
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });
  expect(proxy.acceptedConnections).toBeGreaterThan(0);
});

test('when the database is cut off, health answers 503 degraded/down, a push 503 database_unavailable with nothing written, and after it is back the same push lands without a restart', async () => {
  const batch = records(200);
  const before = await counter.counts();
  proxy.cut();

  const health = await call(server.url, 'GET', '/api/health');
  expect({ status: health.status, body: health.body }).toEqual({ status: 503, body: { status: 'degraded', database: 'down' } });

  const refused = await push(server.url, token, pushBody(batch));
  expectError(refused, 503, 'database_unavailable');
  expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await counter.counts()).toEqual(before);

  expectError(await call(server.url, 'GET', '/api/dispenses', { token }), 503, 'database_unavailable');
  expectError(
    await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'password123' } }),
    503,
    'database_unavailable',
  );

  proxy.restore();
  const healthy = await call(server.url, 'GET', '/api/health');
  expect({ status: healthy.status, body: healthy.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });

  const landed = await push(server.url, token, pushBody(batch));
  expect({ status: landed.status, body: landed.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
  expect(await counter.counts()).toEqual({ dispenses: before.dispenses + 200, audit: before.audit + 200 });
});

test.each([
  ['after the inserts, as the updates are sent', 'UPDATE dispenses'],
  ['after every statement ran, as COMMIT is sent', 'COMMIT'],
])(
  'when the connection is cut inside the push transaction (%s), the batch is all-or-nothing: nothing is written, and a retry lands it all',
  async (_when, marker) => {
    const existing = records(1, 5000)[0];
    expect((await push(server.url, token, pushBody([existing]))).status).toBe(200);
    const edited = { ...existing, quantity: 99, updatedAt: '2026-11-26T09:00:00.000Z' };
    const fresh = records(50, 6000);
    const body = { rows: [...pushBody(fresh).rows, { newDocumentState: edited, assumedMasterState: existing }] };
    const before = await counter.counts();

    const cutDone = proxy.cutWhenClientSends(marker);
    const res = await push(server.url, token, body);
    await cutDone;
    expectError(res, 503, 'database_unavailable');

    expect(await counter.counts()).toEqual(before);
    const [row] = await counter.query('SELECT quantity FROM dispenses WHERE external_id = $1', [existing.externalId]);
    expect(row.quantity).toBe(existing.quantity);
    const [stray] = await counter.query('SELECT count(*)::int AS n FROM dispenses WHERE external_id = ANY($1::uuid[])', [
      fresh.map((d) => d.externalId),
    ]);
    expect(stray.n).toBe(0);

    proxy.restore();
    const retry = await push(server.url, token, body);
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
    expect(await counter.counts()).toEqual({ dispenses: before.dispenses + 50, audit: before.audit + 51 });
    const [after] = await counter.query('SELECT quantity FROM dispenses WHERE external_id = $1', [existing.externalId]);
    expect(after.quantity).toBe(99);
  },
);

test('a server started while the database is unreachable fails to start with the reason, rather than serving', async () => {
  const url = new URL(database.url);
  url.port = String(proxy.port);
  proxy.cut();
  await expect(startTestServer({ DATABASE_URL: url.toString() }, { database })).rejects.toThrow(/ECONNRESET|Connection terminated|timeout/i);
});
