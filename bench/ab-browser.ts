/**
 * Two builds of the app side by side on the same machine in the same minutes, taking turns, so a
 * change is judged by ratio while other work loads the cores: 4b (N records made on the device,
 * one "Sync now") and a new device's first pull of M records, each timed in Chromium, with an
 * optional CDP CPU profile of the page for each.
 *
 *   npx vite build --outDir /tmp/a && (change) && npx vite build --outDir /tmp/b
 *   npx tsx bench/ab-browser.ts --dists /tmp/a,/tmp/b --push 5000 --pull 20000 --rounds 3 [--cpu-prof dir]
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateLatest, openDatabase } from '../server/db';
import { login, push, pushBody } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { startServerProcess } from '../test/support/server-process';
import { seedUsers } from '../test/support/users';
import { autoSyncOffBeforeStart, syncNow, waitForPending } from '../test/e2e/counter';
import { signIn } from '../test/e2e/harness';
import { seedRecords } from '../test/e2e/seed';
import { startCpuProfile, timeFirstPull } from './page';
import { launchChromium } from './product-browser';

const { values } = parseArgs({
  options: {
    dists: { type: 'string' },
    push: { type: 'string', default: '5000' },
    pull: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'string' },
  },
});
const DISTS = (values.dists ?? '').split(',').filter(Boolean);
const PUSH_N = Number(values.push);
const PULL_N = Number(values.pull);
const ROUNDS = Number(values.rounds);
/** A site of its own for each push, so each starts on an empty server and is counted alone. */
const pusher = (k: number) => ({ username: `ab-push-${k}`, password: 'ab-push-pass-1', siteId: `site-ab-push-${k}` });
const PULLER = { username: 'ab-pull', password: 'ab-pull-pass-1', siteId: 'site-ab-pull' };
const load = () => os.loadavg()[0].toFixed(2);

/** With --cpu-prof: the file of the profile `name`. */
const profileFile = (name: string) => (values['cpu-prof'] ? path.join(values['cpu-prof'], `${name}.cpuprofile`) : undefined);

async function main(): Promise<void> {
  if (DISTS.length === 0) throw new Error('--dists a,b');
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = await createTestDatabase('sems_ab', adminUrl);
  const db = await openDatabase({ url: database.url, dataDir: '' });
  await migrateLatest(db);
  await seedUsers(db, [PULLER, ...Array.from({ length: ROUNDS * DISTS.length }, (_, k) => pusher(k))]);
  await db.destroy();
  const servers = await Promise.all(
    DISTS.map((dist) =>
      startServerProcess({ DATABASE_URL: database.url, RATE_PUSH_PER_MINUTE: '100000', RATE_API_PER_MINUTE: '100000', CLIENT_DIST: dist }),
    ),
  );
  const browser = await launchChromium();
  const results: Record<string, { push: number[]; pull: number[] }> = Object.fromEntries(DISTS.map((d) => [d, { push: [], pull: [] }]));
  try {
    if (PULL_N > 0) {
      const { token } = await login(servers[0].url, PULLER.username, PULLER.password);
      const now = Date.now();
      for (let from = 0; from < PULL_N; from += 1000) {
        const docs = Array.from({ length: Math.min(1000, PULL_N - from) }, (_, k) => {
          const at = new Date(now - (from + k) * 60_000).toISOString();
          return makeDispense({ siteId: PULLER.siteId, dispensedBy: PULLER.username, dispensedAt: at, updatedAt: at }, from + k);
        });
        if ((await push(servers[0].url, token, pushBody(docs))).status !== 200) throw new Error('seeding the pull');
      }
    }
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, dist] of DISTS.entries()) {
        const tag = `${path.basename(dist)}-r${round}`;
        if (PUSH_N > 0) {
          const account = pusher((round - 1) * DISTS.length + i);
          const context = await browser.newContext({ baseURL: servers[i].url, viewport: { width: 1280, height: 800 } });
          context.setDefaultTimeout(600_000);
          const page = await context.newPage();
          await seedRecords(page, PUSH_N, account);
          await autoSyncOffBeforeStart(page);
          await page.goto('/');
          await signIn(page, account);
          await waitForPending(page, PUSH_N, 300_000);
          const stop = await startCpuProfile(context, page, profileFile(`push-${tag}`));
          const start = performance.now();
          await syncNow(page);
          await waitForPending(page, 0, 600_000);
          for (;;) {
            const { rows } = await sql.query('SELECT count(*)::int AS n FROM dispenses WHERE site_id = $1', [account.siteId]);
            if (rows[0].n === PUSH_N) break;
            await new Promise((r) => setTimeout(r, 20));
          }
          const ms = performance.now() - start;
          await stop();
          await context.close();
          results[dist].push.push(ms);
          console.log(`  ${tag} push ${PUSH_N}: ${(ms / 1000).toFixed(2)} s (load ${load()})`);
        }
        if (PULL_N > 0) {
          const context = await browser.newContext({ baseURL: servers[i].url });
          context.setDefaultTimeout(900_000);
          const page = await context.newPage();
          await page.goto('/');
          await signIn(page, PULLER);
          const stop = await startCpuProfile(context, page, profileFile(`pull-${tag}`));
          const ms = await timeFirstPull(page, PULL_N);
          await stop();
          await context.close();
          results[dist].pull.push(ms);
          console.log(`  ${tag} first pull ${PULL_N}: ${(ms / 1000).toFixed(2)} s, ${Math.round(PULL_N / (ms / 1000))} rows/s (load ${load()})`);
        }
      }
    }
    await sql.end();
  } finally {
    await browser.close();
    await Promise.all(servers.map((s) => s.stop()));
    await database.drop();
  }
  const best = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const dist of DISTS) {
    const r = results[dist];
    console.log(
      `${dist}: push ${PUSH_N} best ${(best(r.push) / 1000).toFixed(2)} s, median ${(median(r.push) / 1000).toFixed(2)} s; ` +
        `first pull ${PULL_N} best ${Math.round(PULL_N / (best(r.pull) / 1000))} rows/s, median ${Math.round(PULL_N / (median(r.pull) / 1000))} rows/s`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
