/**
 * `npm run bench -- --pgbouncer [--records 50000]`: three server instances on one PostgreSQL,
 * reached directly and through PgBouncer in transaction pooling mode (test/support/pgbouncer.ts),
 * interleaved on empty tables: batches of 1000, four requests in flight on each instance at once
 * (twelve in all), as three pharmacies' counters catching up together would send them.
 */
import os from 'node:os';
import pg from 'pg';
import type { Dispense } from '../schemas/dispense';
import { migrateLatest, openDatabase } from '../server/db';
import { login } from '../test/support/api';
import { startPgBouncer } from '../test/support/pgbouncer';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { startServerProcess, type ServerProcess } from '../test/support/server-process';
import { seedUsers } from '../test/support/users';
import { pushAll } from './http-ingest';

const ACCOUNT = { username: 'bench', password: 'bench-password', siteId: 'site-bench' };
const INSTANCES = 3;

async function truncate(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('TRUNCATE dispenses, audit_logs, site_sync RESTART IDENTITY');
  await c.query('VACUUM ANALYZE dispenses, audit_logs');
  await c.end();
}

/** Each instance gets a third of the records, four requests of 1000 in flight; returns ms. */
async function pushOver(instances: ServerProcess[], records: Dispense[]): Promise<number> {
  const tokens = await Promise.all(instances.map((i) => login(i.url, ACCOUNT.username, ACCOUNT.password).then((r) => r.token)));
  const share = Math.ceil(records.length / instances.length);
  const start = performance.now();
  await Promise.all(instances.map((inst, k) => pushAll(inst.url, tokens[k], records.slice(k * share, (k + 1) * share), 1000, false, 4)));
  return performance.now() - start;
}

export async function pgbouncerRun(opts: { records: number; adminUrl: string; rounds?: number }): Promise<void> {
  const N = opts.records;
  console.log(
    `${INSTANCES} instances, direct and through PgBouncer (transaction pooling), ${N} records; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const database = await createTestDatabase('sems_bench_bouncer', opts.adminUrl);
  const bouncer = await startPgBouncer({ poolSize: 8 });
  const started: ServerProcess[] = [];
  try {
    const db = await openDatabase({ url: database.url, dataDir: '', poolMax: 2 });
    await migrateLatest(db);
    await seedUsers(db, [ACCOUNT]);
    await db.destroy();
    const env = (url: string) => ({ DATABASE_URL: url, RATE_PUSH_PER_MINUTE: '100000', RATE_API_PER_MINUTE: '100000' });
    const direct = await Promise.all(Array.from({ length: INSTANCES }, () => startServerProcess(env(database.url))));
    const pooled = await Promise.all(Array.from({ length: INSTANCES }, () => startServerProcess(env(bouncer.via(database.url)))));
    started.push(...direct, ...pooled);
    const best = { direct: Infinity, pgbouncer: Infinity };
    for (let round = 1; round <= (opts.rounds ?? 3); round++) {
      for (const [name, instances] of [
        ['direct', direct],
        ['pgbouncer', pooled],
      ] as const) {
        await truncate(database.url);
        const records = Array.from({ length: N }, (_, i) => makeDispense({ siteId: ACCOUNT.siteId, dispensedBy: ACCOUNT.username }, i));
        const ms = await pushOver(instances, records);
        best[name] = Math.min(best[name], ms);
        console.log(`  round ${round}, ${name}: ${Math.round((N / ms) * 1000)} rows/s (load ${os.loadavg()[0].toFixed(2)})`);
      }
    }
    const rate = (ms: number) => Math.round((N / ms) * 1000);
    console.log(
      `best: direct ${rate(best.direct)} rows/s, through PgBouncer ${rate(best.pgbouncer)} rows/s = ${((best.direct / best.pgbouncer) * 100).toFixed(0)}% of direct`,
    );
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await bouncer.stop();
    await database.drop();
  }
}
