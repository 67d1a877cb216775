/**
 * `npx tsx bench/token-check.ts --rounds 5`: what the token check costs each request since it reads
 * the session and the device with the user (server/sessions.ts), against the user read it replaced,
 * on one database with 200 users, 20,000 sessions and 1,000 devices; each statement as the server
 * runs it (knex, pool), interleaved rounds, median and p95 per statement. Then, for scale, a whole
 * push request of one unchanged record over HTTP on the same server.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseEnv } from '../server/env';
import { readTokenUser } from '../server/sessions';
import { startServer } from '../server/start';
import { login, push, pushBody } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { seedUsers } from '../test/support/users';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, per: { type: 'string', default: '2000' } } });
const ROUNDS = Number(args.rounds);
const PER = Number(args.per);

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const us = (ms: number) => `${Math.round(ms * 1000)} µs`;

async function timed(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < PER; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const database = await createTestDatabase('sems_bench_token');
  const config = parseEnv({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, JWT_SECRET: 'b'.repeat(40) });
  const server = await startServer(config);
  try {
    const db = server.db;
    const users = await seedUsers(
      db,
      Array.from({ length: 200 }, (_, i) => ({ username: `u${i}`, siteId: `site-${i % 20}` })),
    );
    await db.raw(
      `INSERT INTO sessions (id, user_id, site_id, device_id, expires_at)
       SELECT gen_random_uuid(), u.id, u.site_id, 'dev-' || (g % 1000), now() + interval '1 day'
       FROM generate_series(1, 20000) g JOIN users u ON u.id = (SELECT min(id) FROM users) + g % 200`,
    );
    await db.raw(`INSERT INTO devices (site_id, device_id, last_user) SELECT 'site-' || (g % 20), 'dev-' || g, 'u0' FROM generate_series(0, 999) g`);
    await db.raw('ANALYZE');
    const me = users[7];
    const { token } = await login(server.url, me.username);
    const sid = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string;
    const device = `dev-${7 % 1000}`;

    const before: number[] = [];
    const after: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      before.push(...(await timed(() => db('users').where({ id: me.id }).first())));
      after.push(...(await timed(() => readTokenUser(db, me.id, sid, device))));
    }
    console.log(`token check, ${ROUNDS} × ${PER} each, ${os.cpus().length} cores, PostgreSQL over TCP:`);
    console.log(`  user only (before)            median ${us(quantile(before, 0.5))}  p95 ${us(quantile(before, 0.95))}`);
    console.log(`  user + session + device (now)  median ${us(quantile(after, 0.5))}  p95 ${us(quantile(after, 0.95))}`);

    // A whole push of one record the server holds already: the cheapest push there is.
    const record = makeDispense({ siteId: me.siteId, dispensedBy: me.username });
    await push(server.url, token, pushBody([record]));
    const again = pushBody([record], [record]);
    const pushes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) pushes.push(...(await timed(() => push(server.url, token, again, { headers: { 'x-device-id': device } }))));
    console.log(`  push of 1 unchanged record    median ${us(quantile(pushes, 0.5))}  p95 ${us(quantile(pushes, 0.95))}`);
  } finally {
    await server.close();
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
