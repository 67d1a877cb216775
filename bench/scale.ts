/**
 * `npm run bench -- --preload 10000000 [--records 20000] [--ids v7]`: the server against a large
 * estate. Push (batches of 1000, one at a time and four in flight) on empty tables first; then
 * the tables are filled with the preload (outside any timing), and push, unchanged re-push, the
 * list's first page and pull pages are measured there; with the database's size per million
 * records and the plans of the server's own queries. Writes bench/results/scale-<time>.json/.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Dispense } from '../schemas/dispense';
import { migrateLatest, openDatabase } from '../server/db';
import { call, login } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { startServerProcess } from '../test/support/server-process';
import { seedUsers } from '../test/support/users';
import { pushAll } from './http-ingest';
import { changesCheckpoint, plans, preload, sizes, uuidv7, type Plan } from './preload';

const ACCOUNT = { username: 'bench', password: 'bench-password', siteId: 'site-bench' };
const WINDOW_DAYS = 90;
const load = () => os.loadavg()[0].toFixed(2);

interface Figure {
  measure: string;
  value: number;
  unit: string;
  load: string;
  note?: string;
}

async function sql<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall time of `times` calls, ms. */
async function timed(times: number, fn: () => Promise<void>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return median(ms);
}

export async function scaleRun(opts: { preload: number; records: number; ids: 'v4' | 'v7'; adminUrl: string; out?: string }): Promise<void> {
  const started = new Date();
  const N = opts.records;
  console.log(
    `SEMS Dispense at scale: preload ${opts.preload} records, pushes of ${N}, ${opts.ids} ids; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // New records as a device makes them: v4 (crypto.randomUUID, today's client) or v7 ids.
  let clock = Date.now();
  const make = (i: number): Dispense => {
    const d = makeDispense({ siteId: ACCOUNT.siteId, dispensedBy: ACCOUNT.username }, i);
    const at = new Date(clock++).toISOString();
    return { ...d, dispensedAt: at, updatedAt: at, ...(opts.ids === 'v7' ? { externalId: uuidv7(Date.parse(at)) } : {}) };
  };
  const set = (n: number) => Array.from({ length: n }, (_, i) => make(i));
  const ROUNDS = 2;
  const sets = Array.from({ length: ROUNDS }, () => ({ seq: set(N), flight: set(N), emptySeq: set(N), emptyFlight: set(N) }));
  const afterSet = set(1000);

  const figures: Figure[] = [];
  const note = (measure: string, value: number, unit: string, extra?: string) => {
    figures.push({ measure, value: Math.round(value * 10) / 10, unit, load: load(), note: extra });
    console.log(`  ${measure}: ${Math.round(value * 10) / 10} ${unit} (load ${load()})${extra ? `; ${extra}` : ''}`);
  };
  const rate = (ms: number) => (N / ms) * 1000;

  const database = await createTestDatabase('sems_bench_scale', opts.adminUrl);
  // Empty tables for the comparison: a second database and server, measured between the runs at scale.
  const emptyDatabase = await createTestDatabase('sems_bench_empty', opts.adminUrl);
  let planList: Plan[];
  let size: Awaited<ReturnType<typeof sizes>> | undefined;
  let preloaded: Awaited<ReturnType<typeof preload>> | undefined;
  try {
    const db = await openDatabase({ url: database.url, dataDir: '', poolMax: 2 });
    await migrateLatest(db);
    await seedUsers(db, [ACCOUNT]);
    const emptyDb = await openDatabase({ url: emptyDatabase.url, dataDir: '', poolMax: 2 });
    await migrateLatest(emptyDb);
    await seedUsers(emptyDb, [ACCOUNT]);
    await emptyDb.destroy();
    const env = (url: string) => ({ DATABASE_URL: url, RATE_PUSH_PER_MINUTE: '100000', RATE_API_PER_MINUTE: '100000' });
    const server = await startServerProcess(env(database.url));
    const emptyServer = await startServerProcess(env(emptyDatabase.url));
    try {
      const { token } = await login(server.url, ACCOUNT.username, ACCOUNT.password);
      const { token: emptyToken } = await login(emptyServer.url, ACCOUNT.username, ACCOUNT.password);

      preloaded = await preload(database.url, { records: opts.preload, benchSite: ACCOUNT.siteId, ids: opts.ids });
      note(
        `preload of ${opts.preload} records and audit rows (not a measure of the app)`,
        preloaded.ms / 1000,
        's',
        `indexes rebuilt in ${(preloaded.indexMs / 1000).toFixed(0)} s, VACUUM ANALYZE ${(preloaded.vacuumMs / 1000).toFixed(0)} s, ${preloaded.sites} sites`,
      );
      size = await sizes(database.url);
      note('database size per million records (records + audit rows, with indexes)', size.mbPerMillion, 'MB');

      // At scale and on empty tables, interleaved so both meet the same machine; the best of each.
      const runs = new Map<string, number[]>();
      const run = async (measure: string, fn: () => Promise<number>) => {
        const r = rate(await fn());
        runs.set(measure, [...(runs.get(measure) ?? []), r]);
        console.log(`    ${measure}: ${Math.round(r)} rows/s (load ${load()})`);
      };
      const emptyAgain = () => sql(emptyDatabase.url, 'TRUNCATE dispenses, audit_logs, site_sync RESTART IDENTITY');
      for (const s of sets) {
        await run(`push at ${opts.preload}, batches of 1000`, () => pushAll(server.url, token, s.seq, 1000));
        await emptyAgain();
        await run('push on empty tables, batches of 1000', () => pushAll(emptyServer.url, emptyToken, s.emptySeq, 1000));
        await run(`push at ${opts.preload}, batches of 1000, 4 in flight`, () => pushAll(server.url, token, s.flight, 1000, false, 4));
        await emptyAgain();
        await run('push on empty tables, batches of 1000, 4 in flight', () => pushAll(emptyServer.url, emptyToken, s.emptyFlight, 1000, false, 4));
      }
      for (const [measure, rs] of runs) note(measure, Math.max(...rs), 'rows/s', `best of ${rs.length}: ${rs.map(Math.round).join(', ')}`);
      const seqSet = sets[0].seq;
      const [{ audit: auditBefore }] = await sql<{ audit: number }>(database.url, 'SELECT count(*)::int AS audit FROM audit_logs');
      note(`unchanged re-push at ${opts.preload}, batches of 1000`, rate(await pushAll(server.url, token, seqSet, 1000, true)), 'rows/s');
      const [{ audit: auditAfter }] = await sql<{ audit: number }>(database.url, 'SELECT count(*)::int AS audit FROM audit_logs');
      if (auditAfter !== auditBefore) throw new Error(`the unchanged re-push wrote ${auditAfter - auditBefore} audit rows`);

      const get = async (p: string) => {
        const r = await call(server.url, 'GET', p, { token });
        if (r.status !== 200) throw new Error(`GET ${p}: ${r.status} ${r.text.slice(0, 200)}`);
      };
      note(`list's first page (50) at ${opts.preload}, median of 20, over HTTP`, await timed(20, () => get('/api/dispenses?limit=50')), 'ms');
      note(
        `pull, first page (1000, window) at ${opts.preload}, median of 10`,
        await timed(10, () => get('/api/sync/dispenses/pull?limit=1000')),
        'ms',
      );
      // A device that has pulled the window; then a thousand records are pushed (by another device).
      const cp = await changesCheckpoint(db, ACCOUNT.siteId, WINDOW_DAYS);
      await pushAll(server.url, token, afterSet, 1000);
      note(
        `pull, a page of changes (1000) at ${opts.preload}, median of 10`,
        await timed(10, () => get(`/api/sync/dispenses/pull?limit=1000&checkpoint=${cp}`)),
        'ms',
      );
      note(
        `sync status at ${opts.preload}, median of 5`,
        await timed(5, () => get('/api/sync/status')),
        'ms',
        "reads the sites' counts the push keeps (site_sync), counts no records",
      );
      planList = await plans(db, database.url, ACCOUNT.siteId, { pushedIds: seqSet.map((d) => d.externalId), windowDays: WINDOW_DAYS, changes: cp });
    } finally {
      await Promise.all([server.stop(), emptyServer.stop()]);
      await db.destroy();
    }
  } finally {
    await database.drop();
    await emptyDatabase.drop();
  }

  const byName = (m: string) => figures.find((f) => f.measure.startsWith(m))?.value ?? NaN;
  const targets = [
    ['batches of 1000', byName(`push at ${opts.preload}, batches of 1000`) / byName('push on empty tables, batches of 1000')],
    ['4 in flight', byName(`push at ${opts.preload}, batches of 1000, 4 in flight`) / byName('push on empty tables, batches of 1000, 4 in flight')],
  ].map(
    ([what, r]) =>
      `push at ${opts.preload} >= 70% of its rate on empty tables (${what}): ${Number(r) >= 0.7 ? 'met' : 'MISSED'}, ${(Number(r) * 100).toFixed(0)}%`,
  );
  const seq = planList.filter((p) => p.seqScan).map((p) => p.query);
  targets.push(`every query plan an index scan: ${seq.length === 0 ? 'met' : `MISSED (${[...new Set(seq)].join('; ')})`}`);
  const wide = [...new Set(planList.filter((p) => p.wideScan).map((p) => p.query))];
  if (wide.length > 0) targets.push(`queries that scan over 100,000 rows (an index scan of the whole table): ${wide.join('; ')}`);
  console.log('\nTargets at scale:');
  for (const t of targets) console.log(`  ${t}`);
  for (const p of planList) console.log(`\n-- ${p.query}\n${p.plan}`);

  const out = opts.out ?? path.join('bench', 'results', `scale-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      { startedAt: started.toISOString(), finishedAt: new Date().toISOString(), opts, figures, size, preloaded, targets, plans: planList },
      null,
      2,
    ),
  );
  const md = [
    `Preload ${opts.preload}, pushes of ${N} records, ${opts.ids} ids (${started.toISOString()}):`,
    '',
    '| measure | value | load average (1 min) | note |',
    '| --- | ---: | ---: | --- |',
    ...figures.map((f) => `| ${f.measure} | ${f.value} ${f.unit} | ${f.load} | ${f.note ?? ''} |`),
    '',
    ...targets.map((t) => `- ${t}`),
    '',
    ...planList.flatMap((p) => [`${p.query}:`, '', '```', p.plan, '```', '']),
  ].join('\n');
  fs.writeFileSync(out.replace(/\.json$/, '.md'), md);
  console.log(`Wrote ${out} and its .md`);
}
