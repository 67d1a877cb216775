/**
 * The site admin's staff routes on a real server and PostgreSQL: who may call them (a pharmacist
 * 403, another site's admin 404, the site's admin 2xx), the password rules, strict bodies (no
 * mass assignment), the guards on an admin's own account and the site's last admin, a password
 * set by an admin that must be changed at the next sign-in, and the append-only admin log.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loginResponseSchema } from '../../schemas/api';
import { adminLogPageSchema, sessionsResponseSchema, staffListSchema, staffMemberResponseSchema } from '../../schemas/staff';
import { call, expectError, push, pushBody, TEST_PASSWORD, type Reply } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let sql: pg.Pool;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  server = await startTestServer();
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'alice', siteId: 'site-a' },
    { username: 'bert', siteId: 'site-b', role: 'admin' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  for (const u of ['anna', 'alice', 'bert', 'zed']) tokens[u] = (await server.login(u)).token;
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const as = (who: string, method: string, path: string, body?: unknown): Promise<Reply> =>
  call(server.url, method, path, { token: tokens[who] ?? who, body });

const userRow = async (username: string) =>
  (await sql.query('SELECT site_id, role, display_name, disabled_at, must_change_password FROM users WHERE username = $1', [username])).rows[0];

describe('who may call the staff routes', () => {
  // Each route with a body that is valid for it; the target user is site-a's pharmacist alice.
  const routes: [string, string, () => unknown][] = [
    ['GET', '/api/users', () => undefined],
    ['POST', '/api/users', () => ({ username: `new-${randomUUID().slice(0, 8)}`, role: 'pharmacist', password: 'blue-kettle-morning' })],
    ['PATCH', '/api/users/alice', () => ({ displayName: 'Alice A.' })],
    ['POST', '/api/users/alice/password', () => ({ password: 'orange-lantern-river' })],
    ['GET', '/api/sessions', () => undefined],
    ['GET', '/api/admin-log', () => undefined],
  ];

  test.each(routes)('a pharmacist gets 403 forbidden on %s %s, and nothing changes', async (method, path, body) => {
    const before = await userRow('alice');
    expectError(await as('alice', method, path, body()), 403, 'forbidden');
    expectError(await as('zed', method, path, body()), 403, 'forbidden');
    expect(await userRow('alice')).toEqual(before);
  });

  test.each(routes)('without a token %s %s is 401', async (method, path, body) => {
    expectError(await call(server.url, method, path, { body: body() }), 401, 'token_missing');
  });

  test("another site's admin gets 404 for a user of this site, exactly as for a user nobody has", async () => {
    const before = await userRow('alice');
    for (const [method, path, body] of [
      ['PATCH', '/api/users/alice', { disabled: true }],
      ['POST', '/api/users/alice/password', { password: 'orange-lantern-river' }],
    ] as const) {
      const theirs = await as('bert', method, path, body);
      expectError(theirs, 404, 'not_found');
      expect(theirs.body).toEqual((await as('bert', method, path.replace('alice', 'nobody-at-all'), body)).body);
    }
    expect(await userRow('alice')).toEqual(before);
    expect((await as('alice', 'GET', '/api/auth/me')).status).toBe(200);
  });

  test("each admin lists their own site's users only, with the fields of the contract", async () => {
    const a = await as('anna', 'GET', '/api/users');
    expect(a.status).toBe(200);
    const { users } = staffListSchema.parse(a.body);
    expect(users.map((u) => u.username)).toEqual(expect.arrayContaining(['anna', 'alice']));
    expect(users.map((u) => u.username)).not.toContain('bert');
    expect(users.map((u) => u.username)).not.toContain('zed');
    expect(Object.keys(a.body.users[0]).sort()).toEqual(['disabled', 'displayName', 'lastSignInAt', 'mustChangePassword', 'role', 'username']);
    expect(users.find((u) => u.username === 'alice')).toMatchObject({
      role: 'pharmacist',
      disabled: false,
      mustChangePassword: false,
      lastSignInAt: expect.any(String),
    });
    const b = staffListSchema.parse((await as('bert', 'GET', '/api/users')).body);
    expect(b.users.map((u) => u.username).sort()).toEqual(['bert', 'zed']);
  });
});

describe('adding a user', () => {
  test('the admin adds a user of their own site: 201 with the user, who must change the password at the first sign-in', async () => {
    const r = await as('anna', 'POST', '/api/users', {
      username: 'amos',
      displayName: 'Amos Adeyemi',
      role: 'pharmacist',
      password: 'silver-birch-canoe',
    });
    expect(r.status).toBe(201);
    expect(staffMemberResponseSchema.parse(r.body).user).toEqual({
      username: 'amos',
      displayName: 'Amos Adeyemi',
      role: 'pharmacist',
      disabled: false,
      mustChangePassword: true,
      lastSignInAt: null,
    });
    expect(await userRow('amos')).toMatchObject({ site_id: 'site-a', must_change_password: true });
    const login = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'amos', password: 'silver-birch-canoe' } });
    expect(loginResponseSchema.parse(login.body)).toMatchObject({ mustChangePassword: true, user: { siteId: 'site-a' } });
  });

  test('without a display name, the username is shown', async () => {
    const r = await as('anna', 'POST', '/api/users', { username: 'ayo', role: 'admin', password: 'copper-kettle-dawn' });
    expect(r.status).toBe(201);
    expect(r.body.user).toMatchObject({ displayName: 'ayo', role: 'admin' });
  });

  test('a taken username is 409 username_taken, at this site or another', async () => {
    expectError(
      await as('anna', 'POST', '/api/users', { username: 'alice', role: 'pharmacist', password: 'silver-birch-canoe' }),
      409,
      'username_taken',
    );
    expectError(
      await as('anna', 'POST', '/api/users', { username: 'zed', role: 'pharmacist', password: 'silver-birch-canoe' }),
      409,
      'username_taken',
    );
    expect(await userRow('zed')).toMatchObject({ site_id: 'site-b' });
  });

  test.each([
    ['a common password', 'password123', /commonly used/],
    ['a common password in capitals', 'PASSWORD123', /commonly used/],
    ['7 characters', 'gx7-kq2', /at least 8 characters/],
    ['257 characters', 'x'.repeat(257), /at most 256 characters/],
    ['the username', 'Weak-Will', /not be the username/],
  ])('%s is 400 weak_password with the reason, and nobody is added', async (_what, password, reason) => {
    const r = await as('anna', 'POST', '/api/users', { username: 'weak-will', role: 'pharmacist', password });
    expectError(r, 400, 'weak_password');
    expect(r.body.error.message).toMatch(reason);
    expect(await userRow('weak-will')).toBeUndefined();
  });

  test.each([
    ['siteId', { siteId: 'site-b' }],
    ['id', { id: 1 }],
    ['mustChangePassword', { mustChangePassword: false }],
    ['disabled', { disabled: true }],
    ['__proto__', JSON.parse('{"__proto__": {"siteId": "site-b"}}')],
  ])('a body with %s is 400 invalid_request and adds nobody (no mass assignment)', async (_key, extra) => {
    const r = await as('anna', 'POST', '/api/users', { username: 'mass-mo', role: 'pharmacist', password: 'silver-birch-canoe', ...extra });
    expectError(r, 400, 'invalid_request');
    expect(await userRow('mass-mo')).toBeUndefined();
  });

  test.each([
    ['an unknown role', { username: 'rolf', role: 'owner', password: 'silver-birch-canoe' }],
    ['a username with a space', { username: 'ro lf', role: 'pharmacist', password: 'silver-birch-canoe' }],
    ['no password', { username: 'rolf', role: 'pharmacist' }],
    ['a display name with a NUL', { username: 'rolf', displayName: 'Rolf\u0000', role: 'pharmacist', password: 'silver-birch-canoe' }],
  ])('%s is 400 invalid_request', async (_what, body) => {
    expectError(await as('anna', 'POST', '/api/users', body), 400, 'invalid_request');
  });
});

describe('changing a user', () => {
  beforeAll(async () => {
    await seedUsers(server.db, [{ username: 'carla', siteId: 'site-a' }]);
  });

  test('the admin changes the display name, role and disabled flag of a user of the site: 200 with the user', async () => {
    const r = await as('anna', 'PATCH', '/api/users/carla', { displayName: 'Carla C.', role: 'admin' });
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ username: 'carla', displayName: 'Carla C.', role: 'admin', disabled: false });
    const back = await as('anna', 'PATCH', '/api/users/carla', { role: 'pharmacist', disabled: true });
    expect(back.body.user).toMatchObject({ role: 'pharmacist', disabled: true });
    expect((await as('anna', 'PATCH', '/api/users/carla', { disabled: false })).body.user).toMatchObject({ disabled: false });
  });

  test.each([
    ['siteId', { siteId: 'site-b' }],
    ['id', { id: 999 }],
    ['username', { username: 'carla2' }],
    ['passwordHash', { passwordHash: 'x' }],
    ['mustChangePassword', { mustChangePassword: true }],
  ])('a body with %s is 400 and the user stays where and who they are', async (_key, extra) => {
    const before = await userRow('carla');
    expectError(await as('anna', 'PATCH', '/api/users/carla', { displayName: 'Moved?', ...extra }), 400, 'invalid_request');
    expect(await userRow('carla')).toEqual(before);
  });

  test('an empty change is 400, and a bad role or a display name of spaces is 400', async () => {
    // A NUL or an unpaired surrogate cannot be stored (found by the fault suite: they were a 500).
    for (const body of [
      {},
      { role: 'owner' },
      { displayName: '   ' },
      { disabled: 'yes' },
      { displayName: 'a\u0000b' },
      { displayName: 'x\ud800' },
    ]) {
      expectError(await as('anna', 'PATCH', '/api/users/carla', body), 400, 'invalid_request');
    }
  });

  test('a path that cannot be a username is 404', async () => {
    expectError(await as('anna', 'PATCH', `/api/users/${encodeURIComponent('a b')}`, { disabled: true }), 404, 'not_found');
    expectError(await as('anna', 'PATCH', `/api/users/${'x'.repeat(65)}`, { disabled: true }), 404, 'not_found');
  });
});

describe("an admin's own account and the site's last admin", () => {
  let carl: string;
  let dora: string;
  beforeAll(async () => {
    await seedUsers(server.db, [
      { username: 'carl', siteId: 'site-c', role: 'admin' },
      { username: 'dora', siteId: 'site-c', role: 'admin' },
      { username: 'cody', siteId: 'site-c' },
    ]);
    carl = (await server.login('carl')).token;
    dora = (await server.login('dora')).token;
  });

  test('an admin cannot disable or demote themselves: 409 cannot_change_self, and stays admin', async () => {
    expectError(await as(carl, 'PATCH', '/api/users/carl', { disabled: true }), 409, 'cannot_change_self');
    expectError(await as(carl, 'PATCH', '/api/users/carl', { role: 'pharmacist' }), 409, 'cannot_change_self');
    expect(await userRow('carl')).toMatchObject({ role: 'admin', disabled_at: null });
    // Their own display name is theirs to change.
    expect((await as(carl, 'PATCH', '/api/users/carl', { displayName: 'Carl the admin' })).status).toBe(200);
  });

  test('two admins demoting each other at once: one wins, the other is 409 last_admin, and the site keeps one admin', async () => {
    const [a, b] = await Promise.all([
      as(carl, 'PATCH', '/api/users/dora', { role: 'pharmacist' }),
      as(dora, 'PATCH', '/api/users/carl', { role: 'pharmacist' }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    expectError(
      [a, b].find((r) => r.status === 409)!,
      409,
      'last_admin',
    );
    const { rows } = await sql.query("SELECT username FROM users WHERE site_id = 'site-c' AND role = 'admin' AND disabled_at IS NULL");
    expect(rows).toHaveLength(1);
  });

  test('the remaining admin still cannot leave the site without an admin, and may once another is made', async () => {
    const { rows } = await sql.query("SELECT username FROM users WHERE site_id = 'site-c' AND role = 'admin' AND disabled_at IS NULL");
    const last = rows[0].username as string;
    const token = (await server.login(last)).token;
    expectError(await as(token, 'PATCH', `/api/users/${last}`, { disabled: true }), 409, 'cannot_change_self');
    expect((await as(token, 'PATCH', '/api/users/cody', { role: 'admin' })).status).toBe(200);
    const cody = (await server.login('cody')).token;
    expect((await as(cody, 'PATCH', `/api/users/${last}`, { role: 'pharmacist' })).status).toBe(200);
    expectError(await as(cody, 'PATCH', '/api/users/cody', { role: 'pharmacist' }), 409, 'cannot_change_self');
  });
});

describe('a password set by an admin must be changed at the next sign-in', () => {
  beforeAll(async () => {
    await seedUsers(server.db, [{ username: 'pia', siteId: 'site-a' }]);
  });

  test('after a reset, the sign-in says so, and until the change every route but the change and sign-out is 403 password_change_required', async () => {
    expect((await as('anna', 'POST', '/api/users/pia/password', { password: 'walnut-harbour-tide' })).status).toBe(204);
    expectError(
      await call(server.url, 'POST', '/api/auth/login', { body: { username: 'pia', password: TEST_PASSWORD } }),
      401,
      'invalid_credentials',
    );
    const first = loginResponseSchema.parse(
      (await call(server.url, 'POST', '/api/auth/login', { body: { username: 'pia', password: 'walnut-harbour-tide' } })).body,
    );
    expect(first.mustChangePassword).toBe(true);

    for (const [method, path] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/sync/status'],
      ['GET', '/api/dispenses'],
      ['GET', '/api/sync/dispenses/pull'],
    ]) {
      expectError(await as(first.token, method, path), 403, 'password_change_required');
    }
    const record = makeDispense({ siteId: 'site-a', dispensedBy: 'pia' });
    expectError(await push(server.url, first.token, pushBody([record])), 403, 'password_change_required');
    expect((await sql.query('SELECT 1 FROM dispenses WHERE external_id = $1', [record.externalId])).rows).toEqual([]);

    // The change: a weak one is refused with the reason; the same one as the temporary is refused.
    const weak = await as(first.token, 'POST', '/api/auth/password', { currentPassword: 'walnut-harbour-tide', newPassword: 'iloveyou' });
    expectError(weak, 400, 'weak_password');
    expectError(
      await as(first.token, 'POST', '/api/auth/password', { currentPassword: 'walnut-harbour-tide', newPassword: 'walnut-harbour-tide' }),
      400,
      'weak_password',
    );
    expectError(
      await as(first.token, 'POST', '/api/auth/password', { currentPassword: 'not-the-one', newPassword: 'my-own-secret-path' }),
      403,
      'wrong_password',
    );

    const changed = await as(first.token, 'POST', '/api/auth/password', {
      currentPassword: 'walnut-harbour-tide',
      newPassword: 'my-own-secret-path',
    });
    expect(changed.status).toBe(200);
    const answer = loginResponseSchema.parse(changed.body);
    expect(answer).toMatchObject({ mustChangePassword: false, user: { username: 'pia', siteId: 'site-a' } });
    expect((await as(answer.token, 'GET', '/api/auth/me')).status).toBe(200);
    expect((await push(server.url, answer.token, pushBody([record]))).status).toBe(200);
    expectError(await as(first.token, 'GET', '/api/auth/me'), 401, 'token_revoked');
    expect(await userRow('pia')).toMatchObject({ must_change_password: false });
    expect((await server.login('pia', 'my-own-secret-path')).mustChangePassword).toBe(false);
  });

  test('a user who must change the password may still sign out', async () => {
    expect((await as('anna', 'POST', '/api/users/pia/password', { password: 'walnut-harbour-tide' })).status).toBe(204);
    const { token } = await server.login('pia', 'walnut-harbour-tide');
    expect((await as(token, 'POST', '/api/auth/logout')).status).toBe(204);
    expectError(
      await as(token, 'POST', '/api/auth/password', { currentPassword: 'walnut-harbour-tide', newPassword: 'my-own-secret-path-2' }),
      401,
      'token_revoked',
    );
  });

  test('a reset with a weak password is 400 weak_password and changes nothing', async () => {
    const before = (await sql.query("SELECT password_hash FROM users WHERE username = 'alice'")).rows[0];
    const r = await as('anna', 'POST', '/api/users/alice/password', { password: 'alice' });
    expectError(r, 400, 'weak_password');
    expect((await sql.query("SELECT password_hash FROM users WHERE username = 'alice'")).rows[0]).toEqual(before);
    expectError(
      await as('anna', 'POST', '/api/users/alice/password', { password: 'orange-lantern-river', siteId: 'site-b' }),
      400,
      'invalid_request',
    );
  });
});

describe('the admin log', () => {
  test("every admin action is logged for the admin's site, newest first, in keyset pages", async () => {
    await seedUsers(server.db, [{ username: 'logan', siteId: 'site-a' }]);
    const marker = (await as('anna', 'GET', '/api/admin-log?limit=1')).body.entries[0]?.id ?? '0';
    await as('anna', 'PATCH', '/api/users/logan', { displayName: 'Logan L.' });
    await as('anna', 'PATCH', '/api/users/logan', { role: 'admin' });
    await as('anna', 'PATCH', '/api/users/logan', { role: 'pharmacist', disabled: true });
    await as('anna', 'POST', '/api/users/logan/password', { password: 'juniper-meadow-ink' });
    const sessions = sessionsResponseSchema.parse((await as('anna', 'GET', '/api/sessions')).body).sessions;
    const aliceSession = sessions.find((s) => s.username === 'alice')!;
    expect((await as('anna', 'DELETE', `/api/sessions/${aliceSession.id}`)).status).toBe(204);
    tokens.alice = (await server.login('alice')).token;

    const entries = [];
    let cursor: string | null = null;
    do {
      const r: Reply = await as('anna', 'GET', `/api/admin-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      const page = adminLogPageSchema.parse(r.body);
      expect(page.entries.length).toBeLessThanOrEqual(2);
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor && entries.every((e) => BigInt(e.id) > BigInt(marker)));
    const mine = entries.filter((e) => BigInt(e.id) > BigInt(marker));
    expect(mine.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['anna', 'session.end', aliceSession.id],
      ['anna', 'user.password_reset', 'logan'],
      ['anna', 'user.update', 'logan'],
      ['anna', 'user.update', 'logan'],
      ['anna', 'user.update', 'logan'],
    ]);
    expect(mine[2].details).toEqual({ before: { role: 'admin', disabled: false }, after: { role: 'pharmacist', disabled: true } });
    expect(mine[4].details).toEqual({ before: { displayName: 'logan' }, after: { displayName: 'Logan L.' } });
    const ids = entries.map((e) => BigInt(e.id));
    expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);

    // Another site's admin sees none of it.
    const theirs = adminLogPageSchema.parse((await as('bert', 'GET', '/api/admin-log?limit=200')).body);
    expect(theirs.entries.filter((e) => e.target === 'logan')).toEqual([]);
  });

  test('a bad cursor or limit is 400', async () => {
    for (const q of ['cursor=abc', 'cursor=-1', 'cursor=0', 'limit=0', 'limit=201', 'cursor=1;DROP TABLE admin_log']) {
      expectError(await as('anna', 'GET', `/api/admin-log?${q}`), 400, 'invalid_request');
    }
  });

  test("the log is append-only: the database refuses to change, delete or empty it, even as the app's role", async () => {
    const { rows } = await sql.query('SELECT count(*)::int AS n FROM admin_log');
    expect(rows[0].n).toBeGreaterThan(0);
    await expect(sql.query("UPDATE admin_log SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(sql.query('DELETE FROM admin_log')).rejects.toThrow(/append-only/);
    await expect(sql.query('TRUNCATE admin_log')).rejects.toThrow(/append-only/);
    expect((await sql.query('SELECT count(*)::int AS n FROM admin_log')).rows[0].n).toBe(rows[0].n);
  });
});
