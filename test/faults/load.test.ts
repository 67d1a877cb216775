/**
 * Scenario 5, load: three server instances (separate processes, started together) on one
 * PostgreSQL, twenty clients spread over them pushing at once: five run the browser's own
 * sync (RxDB on fake-indexeddb; the open-source RxDB allows 13 open collections per process),
 * fifteen are plain HTTP clients that push as RxDB does. Every client of a site pushes the same
 * shared records as new (overlapping batches), then all of them edit and sometimes void shared
 * records from stale copies (conflicts), under a push rate limit low enough that each client
 * meets 429 and must wait out its Retry-After.
 */
import { randomBytes } from 'node:crypto';
import { conflictWinner } from '../../client/data/conflict';
import { sameDispense, type Dispense } from '../../schemas/dispense';
import { login, push, pushBody, Tally } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { inspectDatabase, sql } from '../support/inspect';
import { PlainClient, versionKey } from './support/plain-client';
import { report, scaled, since } from './support/results';
import { openDevice, retryAfterRatio, type Device as RxDevice } from '../support/device';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { seedUsers } from '../support/users';

const INSTANCES = 3;
const CLIENTS = 20;
const RX_CLIENTS = 5;
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
const rx: RxDevice[] = [];

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  // Started together on the new database, as a deployment of three would be.
  instances = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      startServerProcess({ DATABASE_URL: database.url, RATE_PUSH_PER_MINUTE: String(PUSH_LIMIT), RATE_API_PER_MINUTE: '100000' }),
    ),
  );
  await seedUsers(database.url, [
    ...Array.from({ length: CLIENTS }, (_, c) => ({ username: `u${c}`, siteId: SITES[c % SITES.length] })),
    ...['x', 'y'].map((username) => ({ username, siteId: 'site-a' })),
  ]);
}, 120_000);

afterAll(async () => {
  for (const c of rx) await c.remove().catch(() => {});
  await Promise.all(instances.map((i) => i.stop()));
  await database?.drop();
});

/** What one device does in the scenario, whichever kind of client it is. */
interface Device {
  name: string;
  site: string;
  addShared: (docs: Dispense[]) => Promise<void>;
  makeOwn: (n: number, from: number) => Promise<Dispense[]>;
  /** The record's current version on this device. */
  local: (id: string) => Promise<Dispense>;
  edit: (id: string, notes: string) => Promise<Dispense>;
  void: (id: string, reason: string) => Promise<Dispense>;
  sync: () => Promise<void>;
  http429: () => number;
  retryAfterRatio: () => number;
  conflicts: () => number;
}

function plainDevice(cl: PlainClient, site: string): Device {
  const user = cl.opts.name;
  return {
    name: user,
    site,
    addShared: async (docs) => docs.forEach((d) => cl.create(d)),
    makeOwn: async (n, from) =>
      Array.from({ length: n }, (_, k) => {
        const d = makeDispense({ siteId: site, dispensedBy: user, patientId: `PT-${TAG}-${from + k}` }, from + k);
        cl.create(d);
        return d;
      }),
    local: async (id) => cl.local.get(id)!,
    edit: async (id, notes) => cl.edit(id, { notes }),
    void: async (id, reason) => cl.edit(id, { status: 'voided', voidReason: reason }),
    sync: () => cl.sync(BATCH),
    http429: () => cl.stats.http429,
    retryAfterRatio: () => cl.stats.retryAfterRatio,
    conflicts: () => cl.stats.conflicts,
  };
}

function rxDevice(cl: RxDevice): Device {
  return {
    name: cl.name,
    site: cl.user.siteId,
    addShared: (docs) => cl.insertAsNew(docs),
    makeOwn: (n, from) => cl.make(n, from),
    local: async (id) => (await cl.db.dispenses.findOne(id).exec())!.toJSON() as Dispense,
    edit: (id, notes) => cl.edit(id, notes),
    void: (id, reason) => cl.void(id, reason),
    sync: () => cl.syncUntilDone(300_000).then(() => undefined),
    http429: () => cl.seen.statuses.get(429) ?? 0,
    retryAfterRatio: () => retryAfterRatio(cl.seen),
    // A conflict reaches the RxDB client as a 200 whose rows come back; counted on the server side below.
    conflicts: () => 0,
  };
}

/** The versions the conflict rule can keep among all that were made: a void first, then the latest. */
function ruleWinners(versions: Dispense[]): Dispense[] {
  const best = versions.reduce((b, v) => (conflictWinner(v, b) === 'local' ? v : b));
  // Two devices' clocks can stamp the same millisecond: then either version is a correct outcome.
  return versions.filter((v) => v.status === best.status && v.updatedAt === best.updatedAt);
}

test('20 clients (5 of them RxDB) on 3 instances: one row per record, conflicts resolved by the rule, 429s waited out, no 5xx', async () => {
  const started = Date.now();
  const tally = new Tally();
  const plain: PlainClient[] = [];
  const devices: Device[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const site = SITES[c % SITES.length];
    const baseUrl = instances[c % INSTANCES].url;
    const { token } = await login(baseUrl, `u${c}`);
    if (c < RX_CLIENTS) {
      // Smaller batches than the plain clients': the browser's sync meets the limit too.
      const cl = await openDevice({
        name: `u${c}`,
        baseUrl,
        user: { username: `u${c}`, siteId: site },
        getToken: () => token,
        batchSize: BATCH / 2,
      });
      rx.push(cl);
      devices.push(rxDevice(cl));
    } else {
      const cl = new PlainClient({ name: `u${c}`, baseUrl, token, tally, deadlineMs: 300_000 });
      plain.push(cl);
      devices.push(plainDevice(cl, site));
    }
  }
  /** Every version of every record that any device made. */
  const versions = new Map<string, Dispense[]>();
  const made = (d: Dispense) => versions.set(d.externalId, [...(versions.get(d.externalId) ?? []), d]);

  // The shared records: the same new records on every device of the site (a shared import).
  let i = 0;
  const shared = new Map<string, string[]>();
  for (const [s, site] of SITES.entries()) {
    const docs = Array.from({ length: SHARED_PER_SITE }, () =>
      makeDispense({ siteId: site, dispensedBy: `u${s}`, patientId: `PT-${TAG}-${i}`, notes: 'shared' }, i++),
    );
    docs.forEach(made);
    shared.set(
      site,
      docs.map((d) => d.externalId),
    );
    for (const dev of devices) if (dev.site === site) await dev.addShared(docs);
  }
  const own: string[][] = [];
  for (const dev of devices) {
    const docs = await dev.makeOwn(OWN_PER_CLIENT, i);
    i += OWN_PER_CLIENT;
    docs.forEach(made);
    own.push(docs.map((d) => d.externalId));
  }

  // Each device on its own schedule, all at once: first its records (the shared ones arrive from
  // ten devices over three instances), then rounds of edits of shared records from stale copies
  // (and a few voids) and of its own records.
  await Promise.all(
    devices.map(async (dev, c) => {
      await dev.sync();
      for (let round = 0; round < ROUNDS; round++) {
        const ids = shared.get(dev.site)!;
        for (let e = 0; e < 8; e++) {
          const id = ids[Math.floor(Math.random() * ids.length)];
          if ((await dev.local(id)).status === 'voided') continue; // the app does not edit a voided record
          try {
            made(Math.random() < 0.05 ? await dev.void(id, `entered twice (u${c})`) : await dev.edit(id, `u${c} round ${round}.${e}`));
          } catch (err) {
            // The device's sync took in the server's void between the look and the edit.
            if (!/voided record cannot be changed/.test(String(err))) throw err;
          }
        }
        for (let e = 0; e < 4; e++) made(await dev.edit(own[c][(round * 4 + e) % own[c].length], `own edit ${round}.${e}`));
        await dev.sync();
      }
    }),
  );

  const found = await inspectDatabase(database.url);
  // Every browser device ends holding its site's records as the server holds them, after its
  // last runs: a pull sees a change once every older transaction has ended, so up to a minute.
  const behind = async (cl: RxDevice) => {
    const local = await cl.records();
    return [...found.byId.values()].filter(
      (d) => d.siteId === cl.user.siteId && !(local.has(d.externalId) && sameDispense(local.get(d.externalId)!, d)),
    ).length;
  };
  for (const cl of rx) for (const end = Date.now() + 60_000; Date.now() < end && (await behind(cl)) > 0;) await cl.sync.syncNow();
  const devicesBehind = await Promise.all(rx.map(behind));
  const winners = new Map([...versions].map(([id, vs]) => [id, ruleWinners(vs)]));
  const lost = [...winners].filter(([id, ws]) => !ws.some((w) => found.byId.has(id) && sameDispense(w, found.byId.get(id)!))).map(([id]) => id);
  // Every audit row is one version a device made, and no version is written twice. Versions are
  // told apart by content: two devices can stamp the same updatedAt (same base, same millisecond).
  const madeVersions = new Set([...versions.values()].flat().map(versionKey));
  const written = (await sql<{ after: Dispense }>(database.url, 'SELECT after FROM audit_logs')).map((r) => versionKey(r.after));
  const writtenSet = new Set(written);
  const writtenTwice = written.length - writtenSet.size;
  const phantom = written.filter((v) => !madeVersions.has(v)).length;
  // Each version a plain client was told the server holds was written (once, by whoever sent it first).
  const notWritten = [...new Set(plain.flatMap((cl) => [...cl.stats.ackedVersions]))].filter((v) => !writtenSet.has(v)).length;

  const rx5xx = rx.reduce((s, cl) => s + [...cl.seen.statuses].reduce((a, [st, n]) => a + (st >= 500 ? n : 0), 0), 0);
  const limited = devices.filter((d) => d.http429() > 0).length;
  const ratio = Math.min(...devices.map((d) => d.retryAfterRatio()));
  const total429 = devices.reduce((s, d) => s + d.http429(), 0);
  const conflicts = plain.reduce((s, cl) => s + cl.stats.conflicts, 0);
  await report({
    id: '5',
    scenario: `Load: ${CLIENTS} clients (${RX_CLIENTS} RxDB), ${INSTANCES} instances, one database`,
    records: winners.size,
    faults: `${conflicts}+ conflicts, ${total429} × 429 (${limited} clients limited)`,
    faultCount: conflicts + total429,
    lost: lost.length,
    duplicated: found.duplicated + writtenTwice,
    http5xx: tally.fiveXx + rx5xx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: written.length - writtenTwice - phantom,
    seconds: since(started),
    notes: `${plain.reduce((s, cl) => s + cl.stats.pushes, 0) + rx.reduce((s, cl) => s + cl.seen.pushes, 0)} pushes; plain statuses ${tally}; push limit ${PUSH_LIMIT}/min per user; shortest wait after a 429 = ${ratio === Infinity ? '-' : ratio.toFixed(2)} × Retry-After; conflicts counted by the plain clients only; audit chain breaks ${found.auditChainBreaks.length}; records a browser device holds in another version than the server, after its last runs: ${devicesBehind.join(', ')}`,
  });

  expect(lost).toEqual([]);
  expect(found.rows).toBe(winners.size);
  expect(found.duplicated).toBe(0);
  expect(found.invalid).toEqual([]);
  expect(found.invalidAudit).toBe(0);
  expect(found.auditChainBreaks).toEqual([]);
  expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
  // No version is written twice: the server never moves a record back by the conflict rule
  // (docs/decisions/field-by-field-conflicts.md), so a version it replaced cannot come back.
  expect({ writtenTwice, phantom, notWritten }).toEqual({ writtenTwice: 0, phantom: 0, notWritten: 0 });
  expect(conflicts).toBeGreaterThan(0);
  expect(plain.reduce((s, cl) => s + cl.stats.conflictsOnCurrentState, 0)).toBe(0);
  expect(plain.flatMap((cl) => cl.stats.rejected)).toEqual([]);
  expect(await Promise.all(rx.map((cl) => cl.marks()))).toEqual(rx.map(() => ({ pending: 0, rejected: 0, synced: expect.any(Number) })));
  expect(devicesBehind).toEqual(rx.map(() => 0)); // each browser device holds its site's records as the server does
  expect(limited).toBeGreaterThan(CLIENTS / 2);
  expect(rx.filter((cl) => (cl.seen.statuses.get(429) ?? 0) > 0).length).toBeGreaterThan(0); // the browser's sync met the limit too
  expect(ratio).toBeGreaterThanOrEqual(0.99); // every 429 waited out for its Retry-After
  // A client that waits as told gets through: it meets the limit about once per window of the
  // limit (a minute), not in a loop. A slow machine stretches the scenario over more windows
  // (193 s in one clean-clone CI run, where a client met the limit 4 times).
  const windows = Math.ceil((Date.now() - started) / 60_000);
  expect(Math.max(...devices.map((d) => d.http429()))).toBeLessThanOrEqual(windows + 1);
  expect(tally.fiveXx + rx5xx).toBe(0);
  expect(tally.networkErrors).toBe(0);
}, 500_000);

test('two devices stamp the same updatedAt on different versions (same base, same millisecond): a void is still never undone by an edit made before it', async () => {
  const url = instances[0].url;
  const [tokenX, tokenY] = [(await login(url, 'x')).token, (await login(url, 'y')).token];
  const base = makeDispense({ siteId: 'site-a', dispensedBy: 'x', patientId: `PT-${TAG}-same-ms` });
  const at = (ms: number) => new Date(Date.parse(base.updatedAt) + ms).toISOString();
  const pushRow = async (token: string, doc: Dispense, assumed: Dispense | null) => {
    const r = await push(url, token, pushBody([doc], [assumed]));
    expect(r.status).toBe(200);
    return r.body as { conflicts: Dispense[]; rejected: unknown[] };
  };
  expect(await pushRow(tokenX, base, null)).toEqual({ conflicts: [], rejected: [] });

  // Both devices change the base in the same millisecond: X edits, Y voids.
  const edited: Dispense = { ...base, notes: 'quantity checked', updatedAt: at(1) };
  const voided: Dispense = { ...base, status: 'voided', voidReason: 'wrong patient', updatedAt: at(1) };
  expect(await pushRow(tokenX, edited, base)).toEqual({ conflicts: [], rejected: [] });
  // Y's void meets X's edit as a conflict; by the rule the void wins and Y pushes it over the edit.
  expect((await pushRow(tokenY, voided, base)).conflicts).toEqual([edited]);
  expect(await pushRow(tokenY, voided, edited)).toEqual({ conflicts: [], rejected: [] });

  // X still believes the server holds its edit, and edits again on top of it.
  const editedAgain: Dispense = { ...edited, notes: 'quantity checked twice', updatedAt: at(2) };
  const answer = await pushRow(tokenX, editedAgain, edited);
  // The server holds the void, not X's edit: that is a conflict, whatever the two updatedAt say.
  expect(answer.conflicts).toEqual([voided]);
  const stored = (await inspectDatabase(database.url)).byId.get(base.externalId);
  expect(stored).toEqual(voided);
});
