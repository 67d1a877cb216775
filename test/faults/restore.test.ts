/**
 * Scenario 11, the server restored from an older backup: a device makes records and syncs them in
 * batches; midway through its sync a `pg_dump` of the database is taken; the sync finishes (the
 * device sees every record confirmed); then the server is stopped, the database dropped and made
 * again from the dump, and the server started on it. The records sent after the dump are gone
 * from the server while the device believes them delivered. The device's next runs find them
 * (its report shows the server holds fewer than it made), send them again, and the server ends
 * holding every record once, with one create in the audit trail each.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { useDelivery } from '../../client/stores/delivery';
import type { Dispense } from '../../schemas/dispense';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, type TestServer } from '../support/server';
import { inspectDatabase, lostRecords, recordCounts } from '../support/inspect';
import { report, scaled, since } from './support/results';
import { openDevice, type Device } from '../support/device';

const run = promisify(execFile);
/** The client programs of the installed PostgreSQL 15 (PG_BIN names another folder). */
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const RECORDS = scaled(600);
const BATCH = 50;
const SITE = `site-restore-${process.pid}`;

let database: TestDatabase;
let server: TestServer;
let client: Device | undefined;
const dumpFile = path.join(os.tmpdir(), `sems-restore-${process.pid}.dump`);

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  server = await startTestServer({}, { database });
  await server.addUser('restorer', SITE);
});

afterAll(async () => {
  await client?.remove().catch(() => {});
  await server?.stop();
  await database?.drop();
  fs.rmSync(dumpFile, { force: true });
});

/** pg's connection settings of the test database, for the command-line tools. */
function pgArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  return {
    args: ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username || 'postgres')],
    env: { ...process.env, ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) },
  };
}

/** What an operator does: drop the database, make it again, restore the dump into it. */
async function restore(): Promise<void> {
  const admin = new URL(database.url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    await c.query(`DROP DATABASE ${database.name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${database.name}`);
  } finally {
    await c.end();
  }
  const { args, env } = pgArgs(database.url);
  await run(path.join(PG_BIN, 'pg_restore'), [...args, '-d', database.name, '--no-owner', dumpFile], { env });
}

test('a restore of a pg_dump taken midway through a sync: the device sends again what the server lost, and every record is on the server once with its create', async () => {
  const started = Date.now();
  const { token } = await server.login('restorer');
  const { args, env } = pgArgs(database.url);
  let dumped: Promise<void> | null = null;
  let serverRowsAtDump = -1;
  client = await openDevice({
    name: 'restore',
    baseUrl: () => server.url,
    user: { username: 'restorer', siteId: SITE },
    getToken: () => token,
    batchSize: BATCH,
    requestsPerBatch: 1,
    // Midway through the sync: the dump is taken while the next batch waits to leave.
    beforePush: async () => {
      if (dumped || (client?.seen.pushes ?? 0) < Math.ceil(RECORDS / BATCH / 2)) return;
      dumped = (async () => {
        serverRowsAtDump = (await recordCounts(database.url)).records;
        await run(path.join(PG_BIN, 'pg_dump'), [...args, '-Fc', '-f', dumpFile, database.name], { env });
      })();
      await dumped;
    },
  });
  const made = new Map<string, Dispense>((await client.make(RECORDS, 0)).map((d) => [d.externalId, d]));
  await client.syncUntilDone(60_000);
  expect(dumped).not.toBeNull();
  await dumped;
  expect((await client.marks()).pending).toBe(0);
  expect((await inspectDatabase(database.url)).rows).toBe(RECORDS);

  // The restore: the server stops (its pool ends), the database is made again from the dump, and
  // the server starts on it at the same address.
  const port = server.port;
  await server.stop();
  await restore();
  server = await startTestServer({ PORT: String(port) }, { database });
  const lostByRestore = RECORDS - (await inspectDatabase(database.url)).rows;

  // The device's runs: the report after one shows the server lacks records; they are found and
  // made pending, and a later run sends them. Bounded by time, not a count of runs.
  const deadline = Date.now() + 60_000;
  let runs = 0;
  const rowsBefore = client.seen.rows;
  for (;;) {
    // The report after a run (once the figures are still) finds what the server lacks: a run, then its report answered.
    const report = client.nextReport();
    await client.sync.syncNow();
    runs++;
    await report;
    const held = (await inspectDatabase(database.url)).rows;
    if (held === RECORDS && (await client.marks()).pending === 0 && useDelivery.getState().serverLacks === 0) break;
    if (Date.now() > deadline) throw new Error(`after ${runs} runs the server holds ${held} of ${RECORDS}`);
  }

  // Rows pushed since the restore: exactly the records sent again, nothing the server still held.
  const resent = client.seen.rows - rowsBefore;
  const found = await inspectDatabase(database.url);
  const lostIds = lostRecords(made, found);
  const { creates } = await recordCounts(database.url);
  const fiveXx = [...client.seen.statuses].reduce((s, [st, n]) => s + (st >= 500 ? n : 0), 0);
  await report({
    id: '11',
    scenario: 'Server restored from a pg_dump taken midway through a sync',
    records: RECORDS,
    faults: `1 restore that lost ${lostByRestore} confirmed records`,
    faultCount: 1,
    lost: lostIds.length,
    duplicated: found.duplicated,
    http5xx: fiveXx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: RECORDS,
    seconds: since(started),
    notes: `dump taken with ${serverRowsAtDump} of ${RECORDS} on the server; ${resent} made pending again and sent in ${runs} runs after the restore; audit chain breaks ${found.auditChainBreaks.length}`,
  });

  expect(lostByRestore).toBeGreaterThan(0);
  expect(resent).toBe(lostByRestore);
  expect(lostIds).toEqual([]);
  expect(found.rows).toBe(RECORDS);
  expect(found.duplicated).toBe(0);
  expect(creates).toBe(RECORDS);
  expect(found.audit).toBe(RECORDS);
  expect(found.auditChainBreaks).toEqual([]);
  expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
  expect(found.invalid).toEqual([]);
  expect(useDelivery.getState().serverLacks).toBe(0);
  expect(fiveXx).toBe(0);
}, 120_000);
