/**
 * Hostile input on the routes of people and access, like scenario 6 for the push: fast-check
 * properties against a real server and PostgreSQL. Staff bodies and paths, password changes,
 * session and device ids, admin log queries, and tokens signed by the server's own secret with
 * hostile session ids: each answer is the route's or the one error body, never a 5xx; a user of
 * another site is never touched, the admin never loses the site, and the admin log holds only the
 * admin's site.
 */
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { adminLogPageSchema, sessionsResponseSchema, staffListSchema, staffMemberResponseSchema } from '../../schemas/staff';
import { loginResponseSchema } from '../../schemas/api';
import { call, contractViolation, Tally, TEST_PASSWORD, type Reply } from '../support/api';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';
import { anyJson, HOSTILE_KEYS, hostileString, NASTY_TEXT, pollutionValue, setOwn } from './support/hostile';
import { report, scaled, since } from './support/results';

const RUNS = { add: scaled(150), change: scaled(150), reset: scaled(80), own: scaled(80), ids: scaled(150), tokens: scaled(100) };

let server: TestServer;
let sql: pg.Pool;
let admin: string;
let pharmacist: string;
let adminId: number;
const tally = new Tally();
const started = Date.now();

beforeAll(async () => {
  // A high sign-in limit: the wrong current passwords of the fuzz would otherwise only meet 429s.
  server = await startTestServer({ RATE_LOGIN_FAILURES: '1000' });
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'alice', siteId: 'site-a' },
    // A pharmacist the fuzz never names: their token and password must survive it.
    { username: 'percy-own', siteId: 'site-a' },
    { username: 'zed', siteId: 'site-b' },
    { username: 'zara', siteId: 'site-b', role: 'admin' },
  ]);
  const login = await server.login('anna');
  admin = login.token;
  adminId = login.user.id;
  pharmacist = (await server.login('percy-own')).token;
});

afterAll(async () => {
  await report({
    id: '12',
    scenario: 'Hostile input on the staff, session, device and admin log routes',
    records: 0,
    faults: `${tally.count(() => true)} hostile requests`,
    faultCount: tally.count(() => true),
    lost: 0,
    duplicated: 0,
    http5xx: tally.fiveXx,
    invalidStored: 0,
    auditRows: 0,
    auditExpected: 0,
    seconds: since(started),
    notes: `statuses ${tally}`,
  });
  await sql?.end();
  await server?.stop();
});

/** A path segment as a client may send it, broken UTF-8 included. */
function segment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))}%ED%A0%80`;
  }
}

async function hostile(method: string, path: string, opts: Parameters<typeof call>[3] = {}): Promise<Reply> {
  const r = await call(server.url, method, path, { ...opts, tally });
  const why = contractViolation(r);
  if (why) throw new Error(`${method} ${path} ${JSON.stringify(opts.body)?.slice(0, 200)}: ${why}`);
  expect(r.status).toBeLessThan(500);
  return r;
}

/** An object with hostile keys set as own properties (so "__proto__" is sent as a key). */
const withExtras = (base: fc.Arbitrary<Record<string, unknown>>) =>
  fc
    .tuple(
      base,
      fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...HOSTILE_KEYS, 'siteId', 'site', 'mustChangePassword'), fc.string({ maxLength: 12 })),
          fc.oneof(pollutionValue, anyJson),
        ),
        { maxLength: 3 },
      ),
    )
    .map(([b, extras]) => {
      const out = { ...b };
      for (const [k, v] of extras) setOwn(out, k, v);
      return out;
    });

// In a path, at most 300 characters: a longer one never reaches the app (Node answers 414/431 itself).
const short = hostileString.map((s) => s.slice(0, 300));
const username = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), short, fc.constantFrom('zed', 'zara', 'anna', 'alice', ...NASTY_TEXT));
const password = fc.oneof(hostileString, fc.constantFrom('password123', 'sturdy-oak-lantern', 'x'.repeat(300), '\ud800\udc00'.repeat(8)));
const role = fc.oneof(fc.constantFrom('pharmacist', 'admin'), hostileString, anyJson);

async function theOtherSite(): Promise<unknown[]> {
  return (await sql.query("SELECT username, site_id, role, disabled_at, password_hash FROM users WHERE site_id = 'site-b' ORDER BY username")).rows;
}

test("hostile bodies on POST /api/users get 201 at the admin's own site, or 400/409 with the error body, never a 5xx", async () => {
  const before = await theOtherSite();
  const body = fc.oneof(
    withExtras(fc.record({ username, displayName: fc.oneof(hostileString, anyJson), role, password }, { requiredKeys: [] })),
    anyJson,
  );
  await fc.assert(
    fc.asyncProperty(body, async (b) => {
      const r = await hostile('POST', '/api/users', { token: admin, body: b });
      expect([201, 400, 409, 413]).toContain(r.status);
      if (r.status === 201) {
        const { user } = staffMemberResponseSchema.parse(r.body);
        expect(user.mustChangePassword).toBe(true);
        const { rows } = await sql.query('SELECT site_id FROM users WHERE username = $1', [user.username]);
        expect(rows).toEqual([{ site_id: 'site-a' }]);
      }
    }),
    { numRuns: RUNS.add },
  );
  expect(await theOtherSite()).toEqual(before);
});

test('hostile paths and bodies on PATCH /api/users/:username get 200, 400, 404 or 409, never a 5xx; the admin stays admin and the other site is untouched', async () => {
  const before = await theOtherSite();
  const body = fc.oneof(
    withExtras(fc.record({ role, disabled: fc.oneof(fc.boolean(), anyJson), displayName: fc.oneof(hostileString, anyJson) }, { requiredKeys: [] })),
    anyJson,
  );
  await fc.assert(
    fc.asyncProperty(username, body, async (name, b) => {
      const r = await hostile('PATCH', `/api/users/${segment(name)}`, { token: admin, body: b });
      expect([200, 400, 404, 409, 413]).toContain(r.status);
    }),
    { numRuns: RUNS.change },
  );
  expect(await theOtherSite()).toEqual(before);
  const me = (await sql.query('SELECT role, disabled_at FROM users WHERE id = $1', [adminId])).rows[0];
  expect(me).toEqual({ role: 'admin', disabled_at: null });
});

test('hostile password resets and own password changes get their answer or the error body, never a 5xx', async () => {
  const before = await theOtherSite();
  await fc.assert(
    // Not the admin's own password: that would end the session the fuzz goes on with.
    fc.asyncProperty(
      username.filter((n) => n !== 'anna'),
      fc.oneof(withExtras(fc.record({ password }, { requiredKeys: [] })), anyJson),
      async (name, b) => {
        const r = await hostile('POST', `/api/users/${segment(name)}/password`, { token: admin, body: b });
        expect([204, 400, 404, 413]).toContain(r.status);
      },
    ),
    { numRuns: RUNS.reset },
  );
  // The pharmacist's own change, with a token that stays valid: the current password is never right.
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        withExtras(fc.record({ currentPassword: password.filter((p) => p !== TEST_PASSWORD), newPassword: password }, { requiredKeys: [] })),
        anyJson,
      ),
      async (b) => {
        const r = await hostile('POST', '/api/auth/password', { token: pharmacist, body: b });
        expect([400, 403, 413]).toContain(r.status);
      },
    ),
    { numRuns: RUNS.own },
  );
  expect(await theOtherSite()).toEqual(before);
  expect((await call(server.url, 'GET', '/api/auth/me', { token: pharmacist })).status).toBe(200);
});

test('hostile session ids, device ids and admin log queries get their answer, 400 or 404, never a 5xx, and nothing of another site', async () => {
  const zara = loginResponseSchema.parse(
    (await call(server.url, 'POST', '/api/auth/login', { body: { username: 'zara', password: TEST_PASSWORD } })).body,
  );
  const id = fc.oneof(short, fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', "' OR 1=1 --", '%00', '..', 'dev-1'));
  const query = fc.oneof(
    fc.record({ limit: fc.oneof(short, fc.integer().map(String)), cursor: fc.oneof(short, fc.bigInt().map(String)) }, { requiredKeys: [] }),
    fc.constantFrom({ 'limit[]': '1' }, { cursor: ['1', '2'] }, { 'cursor[__proto__]': '1' }),
  );
  await fc.assert(
    fc.asyncProperty(id, fc.constantFrom('DELETE session', 'revoke', 'restore'), query, async (x, action, q) => {
      const path = action === 'DELETE session' ? `/api/sessions/${segment(x)}` : `/api/sync/devices/${segment(x)}/${action}`;
      const r = await hostile(action === 'DELETE session' ? 'DELETE' : 'POST', path, { token: admin });
      expect([204, 400, 404]).toContain(r.status); // 400: a path that is not UTF-8
      const qs = new URLSearchParams(Object.entries(q).flatMap(([k, v]) => (Array.isArray(v) ? v.map((one) => [k, one]) : [[k, String(v)]])));
      const log = await hostile('GET', `/api/admin-log?${qs}`, { token: admin });
      expect([200, 400]).toContain(log.status);
      if (log.status === 200) adminLogPageSchema.parse(log.body);
    }),
    { numRuns: RUNS.ids },
  );
  // The other site's admin still holds their session; their log holds none of this.
  expect((await call(server.url, 'GET', '/api/auth/me', { token: zara.token })).status).toBe(200);
  const theirs = adminLogPageSchema.parse((await call(server.url, 'GET', '/api/admin-log?limit=200', { token: zara.token })).body);
  expect(theirs.entries).toEqual([]);
  const mine = sessionsResponseSchema.parse((await call(server.url, 'GET', '/api/sessions', { token: admin })).body);
  expect(mine.sessions.every((s) => s.username !== 'zara')).toBe(true);
  expect(
    staffListSchema
      .parse((await call(server.url, 'GET', '/api/users', { token: admin })).body)
      .users.every((u) => !['zed', 'zara'].includes(u.username)),
  ).toBe(true);
});

test("tokens signed with the server's own secret but hostile session ids and subjects are 401, never a 5xx; hostile device ids at sign-in are ignored or refused", async () => {
  // A token is a header: kept under Node's 16 kB header limit, which answers 431 before the app.
  const claim = fc
    .oneof(anyJson, short, fc.uuid(), fc.constantFrom(String(adminId), adminId, -1, 1e308, '0x10'))
    .filter((v) => Buffer.byteLength(JSON.stringify(v) ?? '') < 2000);
  await fc.assert(
    fc.asyncProperty(claim, claim, fc.oneof(short, fc.constantFrom('dev-1', '')), async (sub, sid, device) => {
      const payload: Record<string, unknown> = { username: 'anna', site: 'site-a' };
      setOwn(payload, 'sub', sub);
      setOwn(payload, 'sid', sid);
      let token: string;
      try {
        token = jwt.sign(payload, TEST_JWT_SECRET, { algorithm: 'HS256', issuer: 'sems-dispense', audience: 'sems-dispense-api', expiresIn: 600 });
      } catch {
        return; // jsonwebtoken refuses to sign it (a subject that is not a string): nothing to send
      }
      const headers: Record<string, string> = /^[\x20-\x7e]*$/.test(device) ? { 'x-device-id': device } : {};
      const r = await hostile('GET', '/api/sync/status', { token, headers });
      expect(r.status).toBe(401);
      const login = await hostile('POST', '/api/auth/login', { body: { username: 'percy-own', password: TEST_PASSWORD }, headers });
      expect([200, 403]).toContain(login.status);
    }),
    { numRuns: RUNS.tokens },
  );
});
