/**
 * Scenario 5, load: three server instances (separate processes, started together) on one
 * PostgreSQL, twenty clients spread over them pushing at once: every client of a site pushes
 * the same shared records as new (overlapping batches), then all of them edit and sometimes
 * void shared records from stale copies (conflicts), under a push rate limit low enough that
 * each client meets 429 and must wait out its Retry-After.
 */
import { randomBytes } from 'node:crypto';
import type { Dispense } from '../../schemas/dispense';
import { openDatabase } from '../../server/db';
import { addUser } from '../../server/users';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { inspectDatabase, lostRecords } from './support/check';
import { login, Tally } from './support/http';
import { conflictWinner, PlainClient } from './support/plain-client';
import { report, scaled, since } from './support/results';
import { startServerProcess, type ServerProcess } from './support/server-process';

const INSTANCES = 3;
const CLIENTS = 20;
const SITES = ['site-a', 'site-b'];
const SHARED_PER_SITE = scaled(100);
const OWN_PER_CLIENT = scaled(100);
const BATCH = 50;
const ROUNDS = 4;
// Low enough that every client meets the limit once it edits: its first window holds the
// pushes of its records and a round or two of edits, not all four.
const PUSH_LIMIT = Math.ceil((SHARED_PER_SITE + OWN_PER_CLIENT) / BATCH) + 4;
const TAG = randomBytes(3).toString('hex');

let database: TestDatabase;
let instances: ServerProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  // Started together on the new database, as a deployment of three would be.
  instances = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      startServerProcess({ DATABASE_URL: database.url, RATE_PUSH_PER_MINUTE: String(PUSH_LIMIT), RATE_API_PER_MINUTE: '100000' }),
    ),
  );
  const db = await openDatabase({ url: database.url, dataDir: 'unused', poolMax: 2 });
  try {
    for (let c = 0; c < CLIENTS; c++) await addUser(db, { username: `u${c}`, password: 'password123', siteId: SITES[c % SITES.length], role: 'pharmacist' });
  } finally {
    await db.destroy();
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(instances.map((i) => i.stop()));
  await database?.drop();
});

/** The version the conflict rule keeps among all that were made: a void first, then the latest. */
function ruleWinner(versions: Dispense[]): Dispense {
  return versions.reduce((best, v) => (conflictWinner(v, best) === 'local' ? v : best));
}

test('20 clients on 3 instances: one row per record, conflicts resolved by the rule, 429s waited out, no 5xx', async () => {
  const started = Date.now();
  const tally = new Tally();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      const baseUrl = instances[c % INSTANCES].url;
      return new PlainClient({ name: `u${c}`, baseUrl, token: await login(baseUrl, `u${c}`), tally, deadlineMs: 240_000 });
    }),
  );
  const siteOf = (c: number) => SITES[c % SITES.length];
  /** Every version of every record that any client made. */
  const versions = new Map<string, Dispense[]>();
  const made = (d: Dispense) => versions.set(d.externalId, [...(versions.get(d.externalId) ?? []), d]);

  // The shared records: the same new records on every client of the site (a shared import).
  let i = 0;
  const shared = new Map<string, string[]>();
  for (const [s, site] of SITES.entries()) {
    const docs = Array.from({ length: SHARED_PER_SITE }, () =>
      makeDispense({ siteId: site, dispensedBy: `u${s}`, patientId: `PT-${TAG}-${i}`, notes: 'shared' }, i++),
    );
    docs.forEach(made);
    shared.set(site, docs.map((d) => d.externalId));
    clients.forEach((cl, c) => siteOf(c) === site && docs.forEach((d) => cl.create(d)));
  }
  const own = clients.map((cl, c) =>
    Array.from({ length: OWN_PER_CLIENT }, () => {
      const d = makeDispense({ siteId: siteOf(c), dispensedBy: `u${c}`, patientId: `PT-${TAG}-${i}` }, i++);
      made(d);
      cl.create(d);
      return d.externalId;
    }),
  );

  // Each client on its own schedule, all at once: first its records (the shared ones arrive from
  // ten clients over three instances), then rounds of edits of shared records from stale copies
  // (and a few voids) and of its own records.
  await Promise.all(
    clients.map(async (cl, c) => {
      await cl.sync(BATCH);
      for (let round = 0; round < ROUNDS; round++) {
        const ids = shared.get(siteOf(c))!;
        for (let e = 0; e < 8; e++) {
          const id = ids[Math.floor(Math.random() * ids.length)];
          if (cl.local.get(id)!.status === 'voided') continue; // the app does not edit a voided record
          const voiding = Math.random() < 0.05;
          made(cl.edit(id, voiding ? { status: 'voided', voidReason: `entered twice (u${c})` } : { notes: `u${c} round ${round}`, quantity: 1 + e }));
        }
        for (let e = 0; e < 4; e++) made(cl.edit(own[c][(round * 4 + e) % own[c].length], { notes: `own edit ${round}.${e}` }));
        await cl.sync(BATCH);
      }
    }),
  );

  const found = await inspectDatabase(database.url);
  const expected = new Map([...versions].map(([id, vs]) => [id, ruleWinner(vs)]));
  const lost = lostRecords(expected, found);
  const acked = new Set(clients.flatMap((cl) => [...cl.stats.ackedVersions])).size;
  const sum = (f: (cl: PlainClient) => number) => clients.reduce((s, cl) => s + f(cl), 0);
  const limited = clients.filter((cl) => cl.stats.http429 > 0).length;
  const ratio = Math.min(...clients.map((cl) => cl.stats.retryAfterRatio));
  await report({
    id: '5',
    scenario: `Load: ${CLIENTS} clients, ${INSTANCES} instances, one database`,
    records: expected.size,
    faults: `${sum((cl) => cl.stats.conflicts)} conflicts, ${sum((cl) => cl.stats.http429)} × 429 (${limited} clients limited)`,
    faultCount: sum((cl) => cl.stats.conflicts) + sum((cl) => cl.stats.http429),
    lost: lost.length,
    duplicated: found.duplicated,
    http5xx: tally.fiveXx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: acked,
    seconds: since(started),
    notes: `${sum((cl) => cl.stats.pushes)} pushes, statuses ${tally}; push limit ${PUSH_LIMIT}/min per user; shortest wait after a 429 = ${ratio === Infinity ? '-' : ratio.toFixed(2)} × Retry-After; server's version won ${sum((cl) => cl.stats.serverWon)} conflicts; audit chain breaks ${found.auditChainBreaks.length}`,
  });

  expect(lost).toEqual([]);
  expect(found.rows).toBe(expected.size);
  expect(found.duplicated).toBe(0);
  expect(found.invalid).toEqual([]);
  expect(found.invalidAudit).toBe(0);
  expect(found.auditChainBreaks).toEqual([]);
  expect(found.audit).toBe(acked); // each version written once, by the push that was told so
  expect(sum((cl) => cl.stats.conflicts)).toBeGreaterThan(0);
  expect(sum((cl) => cl.stats.conflictsOnCurrentState)).toBe(0);
  expect(clients.flatMap((cl) => cl.stats.rejected)).toEqual([]);
  expect(limited).toBeGreaterThan(CLIENTS / 2);
  expect(ratio).toBeGreaterThanOrEqual(0.99); // every 429 waited out for its Retry-After
  // A client that waits as told gets through: it meets the limit about once per window, not in a loop.
  expect(Math.max(...clients.map((cl) => cl.stats.http429))).toBeLessThanOrEqual(3);
  expect(tally.fiveXx).toBe(0);
  expect(tally.networkErrors).toBe(0);
}, 400_000);
