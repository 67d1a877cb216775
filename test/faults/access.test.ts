/**
 * Scenario 7, access (the OWASP API Top 10 cases that apply): another site's records can be
 * neither read nor written, dispensedBy and server-owned fields cannot be forged, bad tokens
 * are refused and write nothing, the login limiter stops guessing, and the server's own
 * output (a separate process, stdout and stderr) never holds patient data.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { dispenseDetailSchema, dispensePageSchema, syncStatusSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { call, contractViolation, login, push, pushBody, Tally, type Reply } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { makeDispense } from '../support/records';
import { TEST_JWT_SECRET } from '../support/server';
import { eventually } from '../support/eventually';
import { inspectDatabase, lostRecords, recordCounts, sql } from '../support/inspect';
import { report, since } from './support/results';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { seedUsers } from '../support/users';

const ISSUER = 'sems-dispense';
const AUDIENCE = 'sems-dispense-api';
const LOGIN_FAILURES = 3;

let database: TestDatabase;
let server: ServerProcess;
const tally = new Tally();
const started = Date.now();
let attacks = 0;
/** What the legitimate users pushed and the server must hold exactly. */
const expected = new Map<string, Dispense>();
const users: Record<string, { id: number; token: string }> = {};
/** Patient data that must never reach the server's output. */
const SECRET_PATIENT_ID = `PX-${randomUUID().slice(0, 8)}`;
const SECRET_PATIENT_NAME = `Zoë Quigley-${randomUUID().slice(0, 6)}`;
const SECRET_NOTE = `allergic-to-penicillin-${randomUUID().slice(0, 6)}`;

const url = () => server.url;

/** A request by an attacker: counted as an injected fault, and always answered by the contract. */
async function attack(method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> {
  attacks++;
  const r = await call(url(), method, path, { ...opts, tally });
  const why = contractViolation(r);
  if (why) throw new Error(`${method} ${path}: ${why}`);
  return r;
}

const record = (who: string, site: string, i: number, extra: Partial<Dispense> = {}): Dispense =>
  makeDispense({ siteId: site, dispensedBy: who, patientId: SECRET_PATIENT_ID, patientName: SECRET_PATIENT_NAME, notes: SECRET_NOTE, ...extra }, i);

async function pushAs(user: string, docs: Dispense[], assumed?: (Dispense | null)[]): Promise<Reply> {
  const r = await push(url(), users[user].token, pushBody(docs, assumed), { tally });
  expect(r.status).toBe(200);
  return r;
}

async function legit(user: string, docs: Dispense[]): Promise<void> {
  const r = await pushAs(user, docs);
  expect(r.body).toEqual({ conflicts: [], rejected: [] });
  for (const d of docs) expected.set(d.externalId, d);
}

const countRows = async () => {
  const { records: d, audit: a } = await recordCounts(database.url);
  return { d, a };
};

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  server = await startServerProcess({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'info',
    RATE_LOGIN_FAILURES: String(LOGIN_FAILURES),
    RATE_PUSH_PER_MINUTE: '100000',
    RATE_API_PER_MINUTE: '100000',
  });
  const password = (name: string) => `${name}-password-1`;
  const people = [
    ['alice', 'site-a'],
    ['carol', 'site-a'],
    ['bob', 'site-b'],
    ['dave', 'site-b'],
  ];
  for (const u of await seedUsers(
    database.url,
    people.map(([username, siteId]) => ({ username, siteId, password: password(username) })),
  )) {
    users[u.username] = { id: u.id, token: (await login(url(), u.username, password(u.username))).token };
  }
  await legit('alice', [record('alice', 'site-a', 1), record('alice', 'site-a', 2)]);
  await legit('bob', [record('bob', 'site-b', 3), record('bob', 'site-b', 4)]);
});

afterAll(async () => {
  const found = await inspectDatabase(database.url);
  await report({
    id: '7',
    scenario: 'Access: other sites, forged fields, bad tokens, login guessing, logs',
    records: expected.size,
    faults: `${attacks} unauthorised or forged requests`,
    faultCount: attacks,
    lost: lostRecords(expected, found).length,
    duplicated: found.duplicated,
    http5xx: tally.fiveXx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: expectedAudit(),
    seconds: since(started),
    notes: `statuses ${tally}`,
  });
  await server?.stop();
  await database?.drop();
});

/** One create per record, plus the edits the tests make legitimately. */
let legitEdits = 0;
const expectedAudit = () => expected.size + legitEdits;

describe("another site's records", () => {
  const bobs = () => [...expected.values()].filter((d) => d.siteId === 'site-b');

  test('cannot be read: the list holds only the own site, the detail answers exactly like a missing record', async () => {
    const list = await attack('GET', '/api/dispenses?limit=500', { token: users.alice.token });
    const page = dispensePageSchema.parse(list.body);
    expect(page.items.length).toBeGreaterThan(0);
    expect(page.items.every((d) => d.siteId === 'site-a')).toBe(true);

    const other = await attack('GET', `/api/dispenses/${bobs()[0].externalId}`, { token: users.alice.token });
    const missing = await attack('GET', `/api/dispenses/${randomUUID()}`, { token: users.alice.token });
    expect(other.status).toBe(404);
    expect(other.body).toEqual(missing.body);

    const own = await call(url(), 'GET', `/api/dispenses/${bobs()[0].externalId}`, { token: users.bob.token, tally });
    expect(dispenseDetailSchema.parse(own.body).record.externalId).toBe(bobs()[0].externalId);

    const status = syncStatusSchema.parse((await attack('GET', '/api/sync/status', { token: users.alice.token })).body);
    expect(status.siteRecords).toBe([...expected.values()].filter((d) => d.siteId === 'site-a').length);
  });

  test("a cursor made from another site's record pages only the own site", async () => {
    const b = bobs()[0];
    const r = await attack('GET', `/api/dispenses?cursor=${encodeURIComponent(`2100-01-01T00:00:00.000Z_${b.externalId}`)}`, {
      token: users.alice.token,
    });
    expect(dispensePageSchema.parse(r.body).items.every((d) => d.siteId === 'site-a')).toBe(true);
  });

  test('cannot be written: new records for it, edits of its records and look-alike rows are rejected and change nothing', async () => {
    const before = await countRows();
    const b = bobs()[0];
    const rows: Dispense[] = [
      record('alice', 'site-b', 10), // a new record filed under the other site
      { ...b, notes: 'changed by alice', updatedAt: new Date().toISOString() }, // an edit of its record
      { ...b, siteId: 'site-a', dispensedBy: 'alice', updatedAt: new Date().toISOString() }, // taking it over
      b, // its record exactly as stored
    ];
    attacks += rows.length;
    const r = await pushAs('alice', rows, [null, b, b, b]);
    expect(r.body.conflicts).toEqual([]); // never another site's record, even as a conflict
    expect(r.body.rejected.map((x: { code: string }) => x.code)).toEqual(['wrong_site', 'wrong_site', 'wrong_site', 'wrong_site']);
    expect(await countRows()).toEqual(before);
    const stored = (await inspectDatabase(database.url)).byId.get(b.externalId);
    expect(stored).toEqual(b);
  });
});

describe('forged fields', () => {
  test('dispensedBy naming someone outside the site, or no one, is rejected; a colleague of the same site is accepted', async () => {
    const before = await countRows();
    const outside = record('bob', 'site-a', 20);
    const nobody = record('mallory', 'site-a', 21);
    const colleague = record('carol', 'site-a', 22);
    attacks += 2;
    const r = await pushAs('alice', [outside, nobody, colleague]);
    expect(r.body.rejected).toEqual([
      expect.objectContaining({ externalId: outside.externalId, code: 'unknown_dispenser' }),
      expect.objectContaining({ externalId: nobody.externalId, code: 'unknown_dispenser' }),
    ]);
    expected.set(colleague.externalId, colleague);
    expect(await countRows()).toEqual({ d: before.d + 1, a: before.a + 1 });
  });

  test('dispensedBy cannot be changed on an existing record', async () => {
    const mine = [...expected.values()].find((d) => d.dispensedBy === 'alice')!;
    attacks++;
    const r = await pushAs('alice', [{ ...mine, dispensedBy: 'carol', updatedAt: new Date().toISOString() }], [mine]);
    expect(r.body.rejected).toEqual([expect.objectContaining({ code: 'immutable_field' })]);
    expect((await inspectDatabase(database.url)).byId.get(mine.externalId)).toEqual(mine);
  });

  test('server-owned fields (received_at and the like) cannot be set: the strict schema rejects unknown keys', async () => {
    const before = await countRows();
    const forged = ['received_at', 'receivedAt', 'server_updated_at', 'id', 'site_id', 'role'].map((key, i) => ({
      ...record('alice', 'site-a', 30 + i),
      [key]: key === 'id' ? 1 : '1999-01-01T00:00:00.000Z',
    }));
    attacks += forged.length;
    const r = await push(url(), users.alice.token, pushBody(forged as Dispense[]), { tally });
    expect(r.status).toBe(200);
    expect(r.body.rejected).toHaveLength(forged.length);
    for (const x of r.body.rejected) {
      expect(x.code).toBe('invalid_record');
      expect(x.issues[0].code).toBe('unrecognized_keys');
    }
    expect(await countRows()).toEqual(before);
    // The stored records carry the server's own time of receipt.
    const [{ oldest }] = await sql<{ oldest: Date }>(database.url, 'SELECT min(received_at) AS oldest FROM dispenses');
    expect(oldest.getTime()).toBeGreaterThan(started - 60_000);
  });

  test('a login body cannot assign a role or a site', async () => {
    const r = await attack('POST', '/api/auth/login', { body: { username: 'carol', password: 'carol-password-1', role: 'admin', siteId: 'site-b' } });
    expect(r.status).toBe(400);
  });
});

describe('tokens', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (id: number, extra: object = {}) => ({
    sub: String(id),
    username: 'alice',
    site: 'site-a',
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 3600,
    ...extra,
  });

  test('alg none, a wrong secret, an expired token, another issuer, HS512, a forged site claim and a deleted user: 401 and nothing written', async () => {
    const alice = users.alice.id;
    await sql(database.url, 'DELETE FROM users WHERE username = $1', ['dave']);
    const bad: Record<string, string> = {
      none: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(alice))}.`,
      noneEmptySig: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(alice))}.${Buffer.from('x').toString('base64url')}`,
      wrongSecret: jwt.sign(claims(alice), 'not-the-secret-0123456789-0123456789-abc', { algorithm: 'HS256' }),
      expired: jwt.sign(claims(alice, { iat: now() - 7200, exp: now() - 60 }), TEST_JWT_SECRET, { algorithm: 'HS256' }),
      otherIssuer: jwt.sign(claims(alice, { iss: 'someone-else' }), TEST_JWT_SECRET, { algorithm: 'HS256' }),
      otherAudience: jwt.sign(claims(alice, { aud: 'another-api' }), TEST_JWT_SECRET, { algorithm: 'HS256' }),
      hs512: jwt.sign(claims(alice), TEST_JWT_SECRET, { algorithm: 'HS512' }),
      tampered: (() => {
        const [h, , s] = users.alice.token.split('.');
        return `${h}.${b64(claims(users.bob.id, { username: 'bob', site: 'site-b' }))}.${s}`;
      })(),
      deletedUser: users.dave.token,
      garbage: 'not.a.token',
    };
    const before = await countRows();
    for (const [name, token] of Object.entries(bad)) {
      for (const [method, path, body] of [
        ['POST', '/api/sync/dispenses/push', pushBody([record('alice', 'site-a', 40)])],
        ['GET', '/api/dispenses', undefined],
        ['GET', '/api/auth/me', undefined],
      ] as const) {
        const r = await attack(method, path, { token, body });
        expect({ name, path, status: r.status }).toEqual({ name, path, status: 401 });
      }
    }
    const noHeader = await attack('POST', '/api/sync/dispenses/push', { body: pushBody([record('alice', 'site-a', 41)]) });
    expect(noHeader.status).toBe(401);
    expect(await countRows()).toEqual(before);

    // A token whose site claim is forged does not widen access: the site comes from the user row.
    // (It names alice's live session: a token without one is refused before its claims matter.)
    const { sid } = jwt.decode(users.alice.token) as { sid: string };
    const forgedSite = jwt.sign(claims(alice, { site: 'site-b', sid }), TEST_JWT_SECRET, { algorithm: 'HS256' });
    const page = dispensePageSchema.parse((await attack('GET', '/api/dispenses?limit=500', { token: forgedSite })).body);
    expect(page.items.every((d) => d.siteId === 'site-a')).toBe(true);
  });
});

describe('login guessing', () => {
  test(`after ${LOGIN_FAILURES} wrong passwords the limiter answers 429 with Retry-After, even to the right password`, async () => {
    for (let i = 0; i < LOGIN_FAILURES; i++) {
      const r = await attack('POST', '/api/auth/login', { body: { username: 'carol', password: `guess-${i}` } });
      expect(r.status).toBe(401);
    }
    for (const password of ['guess-x', 'carol-password-1']) {
      const r = await attack('POST', '/api/auth/login', { body: { username: 'carol', password } });
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  test('guessing across many usernames from one address is stopped too (bounded at 200 tries)', async () => {
    let limitedAt = 0;
    for (let i = 1; i <= 200 && !limitedAt; i++) {
      const r = await attack('POST', '/api/auth/login', { body: { username: `user${i}`, password: 'password123' } });
      if (r.status === 429) {
        limitedAt = i;
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      } else expect(r.status).toBe(401);
    }
    expect(limitedAt).toBeGreaterThan(0);
    expect(limitedAt).toBeLessThanOrEqual(LOGIN_FAILURES * 20);
  });
});

describe('logs', () => {
  test('the server process prints no patient data, password or token, through successes, rejections and bad requests', async () => {
    // Provoke the paths that log: a rejected record carrying patient data, a malformed body
    // carrying it, patient data in a query string, and an edit.
    await pushAs('alice', [{ ...record('alice', 'site-a', 50), quantity: -1 }]);
    await call(url(), 'POST', '/api/sync/dispenses/push', {
      token: users.alice.token,
      raw: `{"rows":[{"newDocumentState":{"patientName":"${SECRET_PATIENT_NAME}"`,
      tally,
    });
    await call(url(), 'GET', `/api/dispenses?patientId=${SECRET_PATIENT_ID}&q=${encodeURIComponent(SECRET_PATIENT_NAME)}`, {
      token: users.alice.token,
      tally,
    });
    const edited = { ...[...expected.values()].find((d) => d.dispensedBy === 'alice')! };
    const next = { ...edited, notes: `${SECRET_NOTE} edited`, updatedAt: new Date(Date.now() + 1000).toISOString() };
    const pushesLogged = () => server.output().match(/"method":"POST","route":"\/api\/sync\/dispenses\/push","status":200/g)?.length ?? 0;
    const loggedBefore = pushesLogged();
    const r = await pushAs('alice', [next], [edited]);
    expect(r.body).toEqual({ conflicts: [], rejected: [] });
    expected.set(next.externalId, next);
    legitEdits++;

    await eventually(() => pushesLogged() > loggedBefore, { what: "the last push's log line" });
    const out = server.output();
    expect(out).toMatch(/"method":"POST","route":"\/api\/sync\/dispenses\/push","status":200/); // the log is on, and read
    for (const secret of [
      SECRET_PATIENT_ID,
      SECRET_PATIENT_NAME,
      SECRET_NOTE,
      'Zoë',
      'carol-password-1',
      users.alice.token,
      users.alice.token.split('.')[2],
    ]) {
      expect({ secret, found: out.includes(secret) }).toEqual({ secret, found: false });
    }
  });
});

describe('at the end', () => {
  test('the legitimate records are all stored as pushed, none twice, all valid, one audit row per change', async () => {
    const found = await inspectDatabase(database.url);
    expect(lostRecords(expected, found)).toEqual([]);
    expect(found.rows).toBe(expected.size);
    expect(found.duplicated).toBe(0);
    expect(found.invalid).toEqual([]);
    expect(found.audit).toBe(expectedAudit());
    expect(tally.fiveXx).toBe(0);
  });
});
