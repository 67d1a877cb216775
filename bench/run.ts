/**
 * `npm run bench -- --records 100000`: sync throughput, side by side in one run on a fresh
 * database — PostgreSQL's COPY (the ceiling), server ingest by batch size, the per-record peer,
 * the unchanged re-push, the product end to end — with memory. Prints a table, writes JSON.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Dispense } from '../schemas/dispense';
import { migrateLatest, openDatabase } from '../server/db';
import { addUser } from '../server/users';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { copyRecords } from './copy-limit';
import { login, pushAll } from './http-ingest';
import { startServerProcess } from './server-process';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    peer: { type: 'string', default: '2000' },
    out: { type: 'string' },
  },
});
const N = Number(args.records);
const PEER_N = Math.min(Number(args.peer), N);
const SITE = 'site-bench';
const USER = 'bench';
const PASSWORD = 'bench-password';

interface Row {
  measure: string;
  records: number;
  ms: number;
  rowsPerSec: number;
  ratio?: string;
  peakRssMb?: number;
  note?: string;
}

const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function counts(url: string): Promise<{ dispenses: number; audit: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT (SELECT count(*)::int FROM dispenses) AS d, (SELECT count(*)::int FROM audit_logs) AS a');
    return { dispenses: rows[0].d, audit: rows[0].a };
  } finally {
    await c.end();
  }
}

async function truncate(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('TRUNCATE dispenses, audit_logs, site_sync RESTART IDENTITY');
  await c.query('VACUUM ANALYZE dispenses, audit_logs');
  await c.end();
}

function expectCounts(got: { dispenses: number; audit: number }, dispenses: number, audit: number, what: string): void {
  if (got.dispenses !== dispenses || got.audit !== audit) {
    throw new Error(`${what}: expected ${dispenses} records and ${audit} audit rows, found ${got.dispenses} and ${got.audit}`);
  }
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = await createTestDatabase('sems_bench', adminUrl);
  const rows: Row[] = [];
  const started = new Date();
  console.log(`SEMS Dispense benchmark: ${N} records, database ${database.name}`);
  try {
    const db = await openDatabase({ url: database.url, dataDir: '' });
    await migrateLatest(db);
    await addUser(db, { username: USER, password: PASSWORD, siteId: SITE, role: 'pharmacist' });
    await db.destroy();
    const records: Dispense[] = Array.from({ length: N }, (_, i) => makeDispense({ siteId: SITE, dispensedBy: USER }, i));

    // 1. The ceiling: COPY of records and audit rows.
    const copyMs = await copyRecords(database.url, records, USER);
    expectCounts(await counts(database.url), N, N, 'COPY');
    const copyRate = rate(N, copyMs);
    rows.push({ measure: 'limit: PostgreSQL COPY (records + audit rows)', records: N, ms: copyMs, rowsPerSec: copyRate, ratio: '1.00 (ceiling)' });

    const server = await startServerProcess({ DATABASE_URL: database.url, RATE_PUSH_PER_MINUTE: '100000' });
    try {
      const token = await login(server.url, USER, PASSWORD);
      // 2. Server ingest over HTTP by batch size, each on empty tables.
      let firstPush1000 = 0;
      for (const batch of [100, 500, 1000]) {
        await truncate(database.url);
        server.resetPeak();
        const ms = await pushAll(server.url, token, records, batch);
        expectCounts(await counts(database.url), N, N, `ingest batch ${batch}`);
        rows.push({
          measure: `server ingest, batches of ${batch}`,
          records: N,
          ms,
          rowsPerSec: rate(N, ms),
          ratio: `${(rate(N, ms) / copyRate).toFixed(2)} of COPY`,
          peakRssMb: Math.round(server.peakRssMb()),
        });
        if (batch === 1000) firstPush1000 = ms;
      }

      // 5. Unchanged re-push of everything (a lost checkpoint): writes nothing.
      const repushMs = await pushAll(server.url, token, records, 1000, true);
      expectCounts(await counts(database.url), N, N, 're-push');
      rows.push({
        measure: 'unchanged re-push, batches of 1000',
        records: N,
        ms: repushMs,
        rowsPerSec: rate(N, repushMs),
        ratio: `${((repushMs / firstPush1000) * 100).toFixed(0)}% of the first push's time`,
        note: '0 rows and 0 audit rows written',
      });

      // 3. The per-record peer: one record per request and transaction.
      await truncate(database.url);
      const peerMs = await pushAll(server.url, token, records.slice(0, PEER_N), 1);
      expectCounts(await counts(database.url), PEER_N, PEER_N, 'per-record');
      rows.push({ measure: 'per-record peer (1 record per request)', records: PEER_N, ms: peerMs, rowsPerSec: rate(PEER_N, peerMs) });
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }

  printTable(rows);
  const result = {
    startedAt: started.toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    records: N,
    rows,
  };
  const out = args.out ?? path.join('bench', 'results', `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`\nWrote ${out}`);
}

function printTable(rows: Row[]): void {
  const header = ['measure', 'records', 'seconds', 'rows/s', 'ratio', 'peak RSS MB', 'note'];
  const body = rows.map((r) => [r.measure, String(r.records), (r.ms / 1000).toFixed(2), String(r.rowsPerSec), r.ratio ?? '', r.peakRssMb ? String(r.peakRssMb) : '', r.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ');
  console.log('\n' + line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
