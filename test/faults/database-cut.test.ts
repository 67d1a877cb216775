/**
 * Scenario 3, the database cut: clients push (new records and edits) while a TCP proxy between
 * the server and PostgreSQL resets connections at random moments, drops a COMMIT before
 * PostgreSQL sees it, swallows PostgreSQL's reply to a COMMIT it made, cuts inside the INSERT
 * and the UPDATE, and keeps PostgreSQL unreachable for seconds. The same server instance must
 * answer 503 while the database is away, write nothing half, and recover without a restart.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { healthSchema } from '../../schemas/api';
import { parseEnv } from '../../server/env';
import { createLogger } from '../../server/logging';
import { startServer, type RunningServer } from '../../server/start';
import { call, contractViolation, login, push, pushBody, Tally } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { TEST_JWT_SECRET } from '../support/server';
import * as tcpProxy from '../support/tcp-proxy';
import { seedUsers } from '../support/users';
import { eventually } from '../support/eventually';
import { inspectDatabase, lostRecords } from '../support/inspect';
import { PlainClient } from './support/plain-client';
import { report, scaled, since } from './support/results';

const CLIENTS = 4;
const RECORDS_PER_CLIENT = scaled(250);
const ROUNDS = scaled(3); // rounds of the fault cycle below
const TAG = randomBytes(4).toString('hex');

let database: TestDatabase;
let proxy: tcpProxy.TcpProxy;
let server: RunningServer;
const logLines: string[] = [];
const tally = new Tally();

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  const direct = new URL(database.url);
  proxy = await tcpProxy.start(Number(direct.port || 5432), direct.hostname);
  const viaProxy = new URL(database.url);
  viaProxy.port = String(proxy.port);
  const config = parseEnv({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'info',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: viaProxy.toString(),
    RATE_PUSH_PER_MINUTE: '100000',
    RATE_API_PER_MINUTE: '100000',
  });
  server = await startServer(config, createLogger(config, { write: (line: string) => logLines.push(line) }));
  await seedUsers(
    server.db,
    Array.from({ length: CLIENTS }, (_, c) => ({ username: `user${c}`, siteId: 'site-a' })),
  );
});

afterAll(async () => {
  await server?.close();
  await proxy?.close();
  await database?.drop();
});

type Fault = { name: string; inject: () => Promise<boolean> };

test('pushes through repeated database cuts: 503 while it is away, nothing half-written, nothing lost or doubled, recovery without a restart', async () => {
  const started = Date.now();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const { token } = await login(server.url, `user${c}`);
      return new PlainClient({ name: `user${c}`, baseUrl: server.url, token, tally, backoffMs: 50, backoffMaxMs: 500, deadlineMs: 240_000 });
    }),
  );
  const outages: { health: number[]; ready: number[]; push: number[]; retryAfter: (string | null)[] } = {
    health: [],
    ready: [],
    push: [],
    retryAfter: [],
  };
  const fired: string[] = [];
  let clientsDone = false;
  let injectorDone = false;
  const deadline = Date.now() + 200_000;

  // Waits for a one-shot cut to happen while the clients are still pushing; false if they finished first.
  const whenFired = async (p: Promise<void>): Promise<boolean> => {
    while (!clientsDone && Date.now() < deadline) {
      if (await Promise.race([p.then(() => true), sleep(100).then(() => false)])) return true;
    }
    return false;
  };
  const faults: Fault[] = [
    { name: 'connections reset at a random moment', inject: async () => (proxy.cut(), await sleep(200 + Math.random() * 600), true) },
    { name: 'COMMIT dropped before PostgreSQL saw it', inject: () => whenFired(proxy.cutWhenClientSends('COMMIT')) },
    { name: "PostgreSQL's reply to a COMMIT it made lost", inject: () => whenFired(proxy.cutWhenServerSends('COMMIT\0')) },
    { name: 'cut inside the INSERT', inject: () => whenFired(proxy.cutWhenClientSends('INSERT INTO dispenses')) },
    { name: 'cut inside the UPDATE', inject: () => whenFired(proxy.cutWhenClientSends('UPDATE dispenses')) },
    {
      name: 'PostgreSQL unreachable for 3 s',
      inject: async () => {
        proxy.cut();
        const until = Date.now() + 3000;
        while (Date.now() < until) {
          const h = await call(server.url, 'GET', '/api/health', { tally });
          outages.health.push(h.status);
          expect(healthSchema.parse(h.body)).toEqual({ status: 'degraded', database: 'down' });
          outages.ready.push((await call(server.url, 'GET', '/api/ready', { tally })).status);
          const p = await push(server.url, clients[0].opts.token, pushBody([makeDispense({ siteId: 'site-a', dispensedBy: 'user0' })]), { tally });
          expect(contractViolation(p)).toBeNull();
          outages.push.push(p.status);
          outages.retryAfter.push(p.headers.get('retry-after'));
          await sleep(300);
        }
        return true;
      },
    },
  ];

  const injector = (async () => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const f of faults) {
        await sleep(150 + Math.random() * 300); // some healthy time between faults
        if (await f.inject()) fired.push(f.name);
        proxy.restore();
      }
    }
  })().finally(() => (injectorDone = true));

  // Each client makes records in small batches and edits some of its earlier ones, pushing after
  // each step, until it has made its share and every fault has been injected (new records keep
  // INSERTs coming for the faults that wait for one).
  let i = 0;
  const work = clients.map(async (client, c) => {
    const user = `user${c}`;
    for (let made = 0; (made < RECORDS_PER_CLIENT || !injectorDone) && Date.now() < deadline;) {
      const n = made < RECORDS_PER_CLIENT ? Math.min(25, RECORDS_PER_CLIENT - made) : 2;
      for (let k = 0; k < n; k++, made++) {
        client.create(makeDispense({ siteId: 'site-a', dispensedBy: user, patientId: `PT-${TAG}-${i}`, patientName: `Name-${TAG}-${i}` }, i++));
      }
      await client.sync(50);
      const ids = [...client.local.keys()];
      for (let e = 0; e < 5; e++) client.edit(ids[Math.floor(Math.random() * ids.length)], { notes: `Note-${TAG} ${e}`, quantity: 1 + e });
      await client.sync(50);
    }
  });
  await Promise.all([injector, ...work]);
  clientsDone = true;
  // Disarm a one-shot cut that did not fire (a marker that is never sent replaces it).
  void proxy.cutWhenClientSends('\0never sent\0');
  void proxy.cutWhenServerSends('\0never sent\0');
  proxy.restore();

  // Recovery without a restart: the same instance answers health 200 and takes a push.
  let health = 0;
  await eventually(async () => (health = (await call(server.url, 'GET', '/api/health', { tally })).status) === 200, {
    timeout: 10_000,
    interval: 200,
    what: 'health 200 again',
  }).catch(() => {});
  expect(health).toBe(200);

  // A client that lost its checkpoint pushes everything again: nothing is written.
  const auditBefore = (await inspectDatabase(database.url)).audit;
  for (const client of clients) {
    for (const id of client.local.keys()) client.pending.add(id);
    await client.sync(500);
  }

  const found = await inspectDatabase(database.url);
  const expected = new Map(clients.flatMap((cl) => [...cl.local]));
  const lost = lostRecords(expected, found);
  // Each version (id@updatedAt) is made once, by one client: the audit rows are the versions acknowledged.
  const acked = new Set(clients.flatMap((cl) => [...cl.stats.ackedVersions])).size;
  const unexpected5xx = tally.count((s) => s >= 500 && s !== 503);
  const fiveOhThree = tally.count((s) => s === 503);
  await report({
    id: '3',
    scenario: 'Database cut (TCP proxy between server and PostgreSQL)',
    records: expected.size,
    faults: `${fired.length} cuts (${ROUNDS}× each of ${faults.length} kinds, incl. lost COMMIT reply, 3 s outage)`,
    faultCount: fired.length,
    lost: lost.length,
    duplicated: found.duplicated,
    http5xx: unexpected5xx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: acked,
    seconds: since(started),
    notes: `${fiveOhThree} answers 503 database_unavailable while cut (designed, retried); statuses ${tally}; network errors ${clients.reduce((s, c) => s + c.stats.networkErrors, 0)}; audit chain breaks ${found.auditChainBreaks.length}`,
  });

  expect(fired.length).toBeGreaterThanOrEqual(faults.length); // every kind of fault happened at least once
  expect(outages.health.length).toBeGreaterThan(0);
  expect(outages.health.every((s) => s === 503)).toBe(true);
  // Not ready while the database is cut; ready again once it answers.
  expect(outages.ready.length).toBeGreaterThan(0);
  expect(outages.ready.every((s) => s === 503)).toBe(true);
  expect((await call(server.url, 'GET', '/api/ready')).status).toBe(200);
  expect(outages.push.every((s) => s === 503)).toBe(true);
  expect(outages.retryAfter.every((h) => /^\d+$/.test(h ?? ''))).toBe(true);
  expect(lost).toEqual([]);
  expect(found.rows).toBe(expected.size);
  expect(found.duplicated).toBe(0);
  expect(found.invalid).toEqual([]);
  expect(found.invalidAudit).toBe(0);
  expect(found.auditChainBreaks).toEqual([]);
  expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
  // Every audit row is a state a client saw acknowledged, except a change whose 200 was lost
  // with the COMMIT reply and was acknowledged later, on the retry, as already held.
  expect(found.audit).toBe(acked);
  expect(found.audit).toBe(auditBefore);
  expect(clients.flatMap((c) => c.stats.rejected)).toEqual([]);
  expect(clients.reduce((s, c) => s + c.stats.conflicts, 0)).toBe(0);
  expect(unexpected5xx).toBe(0);
  // No patient data in anything the server logged through the failures.
  const log = logLines.join('\n');
  expect(log).toMatch(/"method":"POST","route":"\/api\/sync\/dispenses\/push","status":503/);
  expect(log.includes(`PT-${TAG}`) || log.includes(`Name-${TAG}`) || log.includes(`Note-${TAG}`)).toBe(false);
}, 300_000);
