/**
 * `npm run bench -- --records 100000`: sync throughput, side by side in one run on a fresh
 * database — PostgreSQL's COPY (the ceiling), server ingest by batch size, the per-record peer,
 * the unchanged re-push, the product end to end (Node and Chromium), memory, the app's first
 * render with many local records and the Find view's answers there. Prints a table and the
 * ingest targets (docs/benchmarks.md), writes JSON.
 */
import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RXDB_VERSION } from 'rxdb';
import type { Dispense } from '../schemas/dispense';
import { migrateLatest, openDatabase } from '../server/db';
import { login } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { seedUsers } from '../test/support/users';
import { copyRecords, prepareCopy } from './copy-limit';
import { pushAll } from './http-ingest';
import { BENCH_CLIENT_DIST, browserSync, buildClient, launchChromium, localLoad, type LocalLoadResult } from './product-browser';
import type { ProductNodeInput, ProductNodeResult } from './product-node';
import { startServerProcess, type ServerProcess } from '../test/support/server-process';
import { pgbouncerRun } from './pgbouncer';
import { scaleRun } from './scale';
import { evaluateTargets, markdown, printTable, printTargets, type Row } from './report';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string' },
    peer: { type: 'string', default: '2000' },
    'node-records': { type: 'string' },
    'browser-records': { type: 'string', default: '20000' },
    'local-records': { type: 'string', default: '100000' },
    'cpu-prof': { type: 'string' },
    out: { type: 'string' },
    /** Measure against this many stored records instead (bench/scale.ts). */
    preload: { type: 'string' },
    ids: { type: 'string', default: 'v4' },
    /** Three instances directly and through PgBouncer (bench/pgbouncer.ts). */
    pgbouncer: { type: 'boolean' },
  },
});
const N = Number(args.records ?? 100000);
const PEER_N = Math.min(Number(args.peer), N);
const NODE_N = Number(args['node-records'] ?? N);
const BROWSER_N = Number(args['browser-records']);
const LOCAL_N = Number(args['local-records']);
const ACCOUNT = { username: 'bench', password: 'bench-password', siteId: 'site-bench' };

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

/** Now and the last audit id: after a push, a record updated since shows a newer server_updated_at, an audit row a newer id. */
async function writeMark(url: string): Promise<{ at: string; lastAuditId: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT now() AS at, (SELECT coalesce(max(id), 0)::int FROM audit_logs) AS last');
    return { at: rows[0].at, lastAuditId: rows[0].last };
  } finally {
    await c.end();
  }
}

async function writtenSince(url: string, mark: { at: string; lastAuditId: number }): Promise<{ updated: number; audit: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT (SELECT count(*)::int FROM dispenses WHERE server_updated_at >= $1) AS updated,
              (SELECT count(*)::int FROM audit_logs WHERE id > $2) AS audit`,
      [mark.at, mark.lastAuditId],
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

function expectCounts(got: { dispenses: number; audit: number }, dispenses: number, audit: number, what: string): void {
  if (got.dispenses !== dispenses || got.audit !== audit) {
    throw new Error(`${what}: expected ${dispenses} records and ${audit} audit rows, found ${got.dispenses} and ${got.audit}`);
  }
}

/** 4a runs in a child process: its heap is the client's alone, not this process's record arrays. */
function runProductNode(input: ProductNodeInput, cpuProfDir?: string): Promise<ProductNodeResult> {
  const nodeArgs = [
    '--max-old-space-size=8192',
    ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
    '--import',
    'tsx',
    'bench/product-node.ts',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      env: { ...process.env, NODE_ENV: 'production', BENCH_INPUT: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    // RxDB's Dexie storage prints an advertisement on open; keep real errors only.
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('RESULT '.length)) as ProductNodeResult);
      else reject(new Error(`product-node exited with ${code}:\n${err.slice(-4000)}`));
    });
  });
}

function machine() {
  const version = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    chromium: version('/usr/bin/chromium --version'),
    rxdb: RXDB_VERSION,
  };
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  if (args.pgbouncer) return pgbouncerRun({ records: Number(args.records ?? 50000), adminUrl });
  if (args.preload) {
    if (args.ids !== 'v4' && args.ids !== 'v7') throw new Error('--ids is v4 or v7');
    return scaleRun({ preload: Number(args.preload), records: Number(args.records ?? 20000), ids: args.ids, adminUrl, out: args.out });
  }
  const started = new Date();
  const loadAtStart = os.loadavg();
  console.log(
    `SEMS Dispense benchmark: ${N} records (Node end to end ${NODE_N}, Chromium ${BROWSER_N}, local load ${LOCAL_N}); ` +
      `load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`,
  );
  // The app as users get it, built apart from dist/client so a test run's build is left alone.
  if (BROWSER_N > 0 || LOCAL_N > 0) buildClient();
  const database = await createTestDatabase('sems_bench', adminUrl);
  const rows: Row[] = [];
  let local: LocalLoadResult | null = null;
  let postgres: string | undefined;
  try {
    const db = await openDatabase({ url: database.url, dataDir: '' });
    await migrateLatest(db);
    await seedUsers(db, [ACCOUNT]);
    postgres = ((await db.raw('SHOW server_version')) as { rows: { server_version: string }[] }).rows[0].server_version;
    await db.destroy();
    const records: Dispense[] = Array.from({ length: N }, (_, i) => makeDispense({ siteId: ACCOUNT.siteId, dispensedBy: ACCOUNT.username }, i));

    // 1. The ceiling: COPY of records and audit rows, its input made before any clock, run
    // between the ingest runs (five times in all, each on empty tables); the best is the ceiling
    // every ratio is judged against, so a run that happened to meet a busy moment cannot flatter them.
    const copyInput = prepareCopy(records, ACCOUNT.username);
    const copyRuns: number[] = [];
    const copyOnce = async () => {
      await truncate(database.url);
      const ms = await copyRecords(database.url, copyInput);
      expectCounts(await counts(database.url), N, N, 'COPY');
      copyRuns.push(ms);
      console.log(`  COPY run ${copyRuns.length}: ${rate(N, ms)} rows/s (load ${os.loadavg()[0].toFixed(2)})`);
    };
    await copyOnce();

    const server: ServerProcess = await startServerProcess({
      DATABASE_URL: database.url,
      RATE_PUSH_PER_MINUTE: '100000',
      CLIENT_DIST: BENCH_CLIENT_DIST,
    });
    try {
      const { token } = await login(server.url, ACCOUNT.username, ACCOUNT.password);
      // 2. Server ingest over HTTP by batch size, each on empty tables.
      for (const batch of [100, 500, 1000]) {
        if (batch > 100) await copyOnce();
        await truncate(database.url);
        server.resetPeak();
        const ms = await pushAll(server.url, token, records, batch);
        expectCounts(await counts(database.url), N, N, `ingest batch ${batch}`);
        rows.push({
          id: `2/${batch}`,
          measure: `server ingest, batches of ${batch}`,
          records: N,
          ms,
          rowsPerSec: rate(N, ms),
          serverRssMb: server.peakRssMb(),
          note: `load ${os.loadavg()[0].toFixed(2)}`,
        });
        console.log(`  ingest, batches of ${batch}: ${rate(N, ms)} rows/s (load ${os.loadavg()[0].toFixed(2)})`);
      }

      // 2, as the app sends: four requests of 1000 in flight.
      await copyOnce();
      await truncate(database.url);
      server.resetPeak();
      const concurrentMs = await pushAll(server.url, token, records, 1000, false, 4);
      expectCounts(await counts(database.url), N, N, 'ingest batch 1000, 4 in flight');
      rows.push({
        id: '2c/1000',
        measure: 'server ingest, batches of 1000, 4 in flight',
        records: N,
        ms: concurrentMs,
        rowsPerSec: rate(N, concurrentMs),
        serverRssMb: server.peakRssMb(),
        note: `as the app sends them; load ${os.loadavg()[0].toFixed(2)}`,
      });
      console.log(`  ingest, batches of 1000, 4 in flight: ${rate(N, concurrentMs)} rows/s (load ${os.loadavg()[0].toFixed(2)})`);
      // The tables now hold every record once, as after the batches of 1000: the re-push follows.

      // 5. Unchanged re-push of everything (a lost checkpoint): writes nothing.
      const mark = await writeMark(database.url);
      const repushMs = await pushAll(server.url, token, records, 1000, true);
      expectCounts(await counts(database.url), N, N, 're-push');
      const written = await writtenSince(database.url, mark);
      if (written.updated !== 0 || written.audit !== 0) {
        throw new Error(`the unchanged re-push wrote ${written.updated} records and ${written.audit} audit rows`);
      }
      rows.push({
        id: '5',
        measure: 'unchanged re-push, batches of 1000',
        records: N,
        ms: repushMs,
        rowsPerSec: rate(N, repushMs),
        note: '0 rows and 0 audit rows written (checked)',
      });

      // The last COPY, then the ceiling: the best of the runs.
      await copyOnce();
      const copyMs = Math.min(...copyRuns);
      rows.unshift({
        id: '1',
        measure: `limit: PostgreSQL COPY (records + audit rows), best of ${copyRuns.length}`,
        records: N,
        ms: copyMs,
        rowsPerSec: rate(N, copyMs),
        note: `runs, interleaved with 2: ${copyRuns.map((ms) => rate(N, ms)).join(', ')} rows/s`,
      });

      // 3. The per-record peer: one record per request and transaction.
      await truncate(database.url);
      const peerMs = await pushAll(server.url, token, records.slice(0, PEER_N), 1);
      expectCounts(await counts(database.url), PEER_N, PEER_N, 'per-record');
      rows.push({ id: '3', measure: 'per-record peer (1 record per request)', records: PEER_N, ms: peerMs, rowsPerSec: rate(PEER_N, peerMs) });

      // 4a. The product in Node: RxDB on fake-indexeddb, one "Sync now".
      if (NODE_N > 0) {
        await truncate(database.url);
        server.resetPeak();
        const r = await runProductNode({ serverUrl: server.url, databaseUrl: database.url, token, user: ACCOUNT, records: NODE_N }, args['cpu-prof']);
        expectCounts(await counts(database.url), NODE_N, NODE_N, 'end to end, Node');
        rows.push({
          id: '4a',
          measure: 'end to end, Node (RxDB on fake-indexeddb), one "Sync now"',
          records: NODE_N,
          ms: r.syncMs,
          rowsPerSec: rate(NODE_N, r.syncMs),
          serverRssMb: server.peakRssMb(),
          clientHeapMb: r.peakHeapMb.sync,
          note: `seeded by createDispenses in ${(r.seedMs / 1000).toFixed(1)} s (heap ${r.peakHeapMb.seed} MB); client RSS ${r.peakRssMb.sync} MB; "${r.lastResult}"`,
        });
      }

      const browser = BROWSER_N > 0 || LOCAL_N > 0 ? await launchChromium() : null;
      try {
        // 4b. The product in Chromium on real IndexedDB, "Sync now" clicked.
        if (browser && BROWSER_N > 0) {
          await truncate(database.url);
          const r = await browserSync(browser, {
            serverUrl: server.url,
            databaseUrl: database.url,
            account: ACCOUNT,
            records: BROWSER_N,
            beforeSync: () => server.resetPeak(),
            cpuProfile: args['cpu-prof'] ? path.join(args['cpu-prof'], `chromium-4b-${Date.now()}.cpuprofile`) : undefined,
          });
          expectCounts(await counts(database.url), BROWSER_N, BROWSER_N, 'end to end, Chromium');
          if (r.pageErrors.length > 0) throw new Error(`the page reported errors: ${r.pageErrors.join('; ')}`);
          rows.push({
            id: '4b',
            measure: 'end to end, Chromium (IndexedDB), "Sync now" clicked',
            records: BROWSER_N,
            ms: r.syncMs,
            rowsPerSec: rate(BROWSER_N, r.syncMs),
            serverRssMb: server.peakRssMb(),
            clientHeapMb: r.peakHeapMb,
            note: `seeded in the page by createDispenses in ${(r.seedMs / 1000).toFixed(1)} s`,
          });
        }
        // 7. The app opening with many local records; 8. the Find view there.
        if (browser && LOCAL_N > 0) {
          local = await localLoad(browser, { serverUrl: server.url, account: ACCOUNT, records: LOCAL_N, find: true });
        }
      } finally {
        await browser?.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }

  const loadAtEnd = os.loadavg();
  printTable(rows, local);
  const targets = evaluateTargets(rows, local, N);
  printTargets(targets);
  console.log(`\nLoad average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' ')}`);
  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { ...machine(), postgres: postgres ?? 'unknown', loadAverage: { start: loadAtStart, end: loadAtEnd } },
    sizes: { records: N, peer: PEER_N, nodeRecords: NODE_N, browserRecords: BROWSER_N, localRecords: LOCAL_N },
    rows,
    localLoad: local,
    targets,
  };
  const out = args.out ?? path.join('bench', 'results', `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  // The table and targets in Markdown too, ready for docs/benchmarks.md.
  const md = out.replace(/\.json$/, '') + '.md';
  fs.writeFileSync(md, markdown(rows, local, targets));
  console.log(`Wrote ${out} and ${md}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
