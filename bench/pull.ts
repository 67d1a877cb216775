/**
 * The pull, side by side in one run: a new device's first pull of N records into
 * Chromium (the built app, a fresh profile, "Sync now" until the progress bar's end), in rows/s;
 * the same number of records written by RxDB's bulkInsert in the same browser with no network,
 * the ceiling on this machine (chunks of 1000, as a pull writes, and of 10,000; the best taken);
 * raw IndexedDB `put` of records of the same shape with the collection's indexes, one transaction
 * per chunk of 1000 and of 10,000, each twice (bench/raw-idb.ts: the hardware's ceiling, which the
 * target is judged against); and the server's time for a pull page of 1000 with 1,000,000 records stored.
 *
 *   npm run bench:pull -- --records 100000 --stored 1000000
 *   --cpu-prof <dir>: a CPU profile of the page during the first pull (CDP), written there.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { login, pull, push, pushBody } from '../test/support/api';
import { makeDispense } from '../test/support/records';
import { startTestServer } from '../test/support/server';
import { signIn } from '../test/e2e/harness';
import { bulkInsertCeiling } from '../test/e2e/seed';
import { BENCH_CLIENT_DIST, buildClient, launchChromium } from './product-browser';
import { RECOUNT_SITE_RECORDS_SQL } from '../server/site-counts';
import { startCpuProfile, timeFirstPull } from './page';
import { rawPutCeiling } from './raw-idb';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '100000' }, stored: { type: 'string', default: '1000000' }, 'cpu-prof': { type: 'string' } },
});
const N = Number(values.records);
const STORED = Number(values.stored);
const ACCOUNT = { username: 'bench-pull', password: 'bench-pull-pass-1', siteId: 'site-bench-pull' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function main(): Promise<void> {
  console.log(
    `Pull benchmark: ${N} records into Chromium, pages at ${STORED} stored; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  buildClient();
  const server = await startTestServer({ CLIENT_DIST: BENCH_CLIENT_DIST, RATE_API_PER_MINUTE: '100000' });
  const browser = await launchChromium();
  try {
    await server.addUser(ACCOUNT.username, ACCOUNT.siteId, ACCOUNT.password);
    const { token } = await login(server.url, ACCOUNT.username, ACCOUNT.password);
    const now = Date.now();
    for (let from = 0; from < N; from += 1000) {
      const docs = Array.from({ length: Math.min(1000, N - from) }, (_, k) => {
        const at = new Date(now - (from + k) * 60_000).toISOString();
        return makeDispense({ siteId: ACCOUNT.siteId, dispensedBy: ACCOUNT.username, dispensedAt: at, updatedAt: at }, from + k);
      });
      const res = await push(server.url, token, pushBody(docs));
      if (res.status !== 200) throw new Error(`seeding: ${res.status}`);
    }

    // 1. A new device's first pull, press to the last record written.
    const context = await browser.newContext({ baseURL: server.url });
    context.setDefaultTimeout(900_000);
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, ACCOUNT);
    const profileFile = values['cpu-prof'] && path.join(values['cpu-prof'], `chromium-first-pull-${Date.now()}.cpuprofile`);
    const stop = await startCpuProfile(context, page, profileFile);
    const pullMs = await timeFirstPull(page, N);
    await stop();
    if (profileFile) console.log(`  wrote ${profileFile}`);
    await context.close();

    // 2. The ceiling: RxDB's bulkInsert of as many records in the same browser, no network.
    const ceilings: Record<string, number> = {};
    for (const chunk of [1000, 10_000]) {
      const ctx = await browser.newContext({ baseURL: server.url });
      ceilings[chunk] = await bulkInsertCeiling(await ctx.newPage(), N, chunk, ACCOUNT);
      await ctx.close();
    }
    const bestCeilingMs = Math.min(...Object.values(ceilings));

    // 2b. The hardware's ceiling: raw IndexedDB puts, one transaction per chunk, each size twice.
    const raw: Record<string, number> = {};
    for (const round of [1, 2]) {
      for (const chunk of [1000, 10_000]) {
        const ctx = await browser.newContext({ baseURL: server.url });
        const ms = await rawPutCeiling(await ctx.newPage(), N, chunk, ACCOUNT);
        raw[chunk] = Math.min(raw[chunk] ?? Infinity, ms);
        console.log(`  raw IndexedDB put, chunks of ${chunk}, round ${round}: ${rate(N, ms)} rows/s`);
        await ctx.close();
      }
    }
    const bestRawMs = Math.min(...Object.values(raw));

    // 3. The server's pull page of 1000 with STORED records stored (ten sites; this site's first pull).
    const sql = new pg.Client({ connectionString: server.database!.url });
    await sql.connect();
    const more = Math.max(0, STORED - N);
    await sql.query(
      `INSERT INTO dispenses (external_id, site_id, patient_id, patient_name, medication_code, medication_name, quantity, unit,
                              dispensed_at, dispensed_by, status, updated_at)
       SELECT gen_random_uuid(), 'site-fill-' || (g % 9), 'P' || (g % 50000), 'Patient ' || (g % 50000), 'MED' || (g % 300),
              'Amoxicillin 500 mg capsules', 21, 'capsule', now() - make_interval(secs => g), 'filler', 'dispensed', now() - make_interval(secs => g)
         FROM generate_series(1, $1::int) g`,
      [more],
    );
    await sql.query(RECOUNT_SITE_RECORDS_SQL); // the sites' counts, as the push keeps them
    await sql.query('ANALYZE dispenses');
    const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM dispenses');
    await sql.end();
    const pageMs: number[] = [];
    let checkpoint: string | undefined;
    for (let p = 0; p < 30; p++) {
      const t = performance.now();
      const r = await pull(server.url, token, checkpoint, 1000);
      pageMs.push(performance.now() - t);
      checkpoint = (r.body as { checkpoint: string }).checkpoint;
    }

    const table = [
      ['first pull of a new device, Chromium', `${N} records`, `${(pullMs / 1000).toFixed(1)} s`, `${rate(N, pullMs)} rows/s`],
      [
        'RxDB bulkInsert, chunks of 1000, same browser (ceiling)',
        `${N} records`,
        `${(ceilings[1000] / 1000).toFixed(1)} s`,
        `${rate(N, ceilings[1000])} rows/s`,
      ],
      [
        'RxDB bulkInsert, chunks of 10,000, same browser (ceiling)',
        `${N} records`,
        `${(ceilings[10_000] / 1000).toFixed(1)} s`,
        `${rate(N, ceilings[10_000])} rows/s`,
      ],
      ...[1000, 10_000].map((chunk) => [
        `raw IndexedDB put, chunks of ${chunk.toLocaleString('en-US')}, same browser (ceiling), best of 2`,
        `${N} records`,
        `${(raw[chunk] / 1000).toFixed(1)} s`,
        `${rate(N, raw[chunk])} rows/s`,
      ]),
      [
        'server: a pull page of 1000 (HTTP, median of 30)',
        `${Number(rows[0].n)} stored`,
        `${median(pageMs).toFixed(1)} ms`,
        `max ${Math.max(...pageMs).toFixed(1)} ms`,
      ],
    ];
    for (const r of table) console.log(`| ${r.join(' | ')} |`);
    const ratio = bestCeilingMs / pullMs;
    console.log(`The first pull against RxDB's bulkInsert at its best: ${(ratio * 100).toFixed(1)}%`);
    const rawRatio = bestRawMs / pullMs;
    console.log(
      `Target: the first pull at least 60% of raw IndexedDB put at its best (${rate(N, bestRawMs)} rows/s): ${(rawRatio * 100).toFixed(1)}% (${
        rawRatio >= 0.6 ? 'met' : 'missed'
      })`,
    );
    console.log(
      `Load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
