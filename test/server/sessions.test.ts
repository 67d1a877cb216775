/**
 * Tokens end when access ends, from the very next request: sign-out, a disable, a role change, a
 * password reset or change, a session ended by the site's admin. Each case holds two tokens of
 * the user (two devices), and checks a read and a push with each, and that a push refused writes
 * nothing. And the site's live sessions as the admin sees them.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { sessionsResponseSchema, type Session } from '../../schemas/staff';
import { issueToken } from '../../server/auth';
import { parseEnv } from '../../server/env';
import { call, expectError, push, pushBody, TEST_PASSWORD, type Reply } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';
import { eventually } from '../support/eventually';

let server: TestServer;
let sql: pg.Pool;
let admin: string;

beforeAll(async () => {
  server = await startTestServer();
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'bert', siteId: 'site-b', role: 'admin' },
  ]);
  admin = (await server.login('anna')).token;
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const as = (token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> =>
  call(server.url, method, path, { token, body, headers });

/** A new pharmacist of site-a signed in on two devices. */
async function twoSessions(password = TEST_PASSWORD): Promise<{ username: string; one: string; two: string }> {
  const username = `p-${randomUUID().slice(0, 8)}`;
  await seedUsers(server.db, [{ username, siteId: 'site-a', password }]);
  const login = (device: string) =>
    call(server.url, 'POST', '/api/auth/login', { body: { username, password }, headers: { 'x-device-id': device } }).then(
      (r) => r.body.token as string,
    );
  return { username, one: await login(`dev-one-${username}`), two: await login(`dev-two-${username}`) };
}

/** Both a read and a push with `token` are refused with `status` `code`, and the push writes nothing. */
async function refused(token: string, username: string, status: number, code: string): Promise<void> {
  expectError(await as(token, 'GET', '/api/auth/me'), status, code);
  const record = makeDispense({ siteId: 'site-a', dispensedBy: username });
  expectError(await push(server.url, token, pushBody([record])), status, code);
  expect((await sql.query('SELECT 1 FROM dispenses WHERE external_id = $1', [record.externalId])).rows).toEqual([]);
}

async function works(token: string): Promise<void> {
  expect((await as(token, 'GET', '/api/auth/me')).status).toBe(200);
}

async function sessions(token = admin): Promise<Session[]> {
  const r = await as(token, 'GET', '/api/sessions');
  expect(r.status).toBe(200);
  return sessionsResponseSchema.parse(r.body).sessions;
}

describe('revocation from the next request', () => {
  test('sign-out revokes the token it carries (401 token_revoked); the same user on another device stays signed in', async () => {
    const { username, one, two } = await twoSessions();
    await works(one);
    expect((await as(one, 'POST', '/api/auth/logout')).status).toBe(204);
    await refused(one, username, 401, 'token_revoked');
    expect((await as(one, 'GET', '/api/auth/me')).body.error.message).toMatch(/signed out/);
    await works(two);
    expectError(await as(one, 'POST', '/api/auth/logout'), 401, 'token_revoked');
  });

  test('a disabled user: every token is 401 user_disabled, the right password too; enabled again, a new sign-in works and the old tokens stay ended', async () => {
    const { username, one, two } = await twoSessions();
    expect((await as(admin, 'PATCH', `/api/users/${username}`, { disabled: true })).status).toBe(200);
    await refused(one, username, 401, 'user_disabled');
    await refused(two, username, 401, 'user_disabled');
    expect((await as(one, 'GET', '/api/auth/me')).body.error.message).toBe("Your account was disabled by the site's admin.");
    expectError(await call(server.url, 'POST', '/api/auth/login', { body: { username, password: TEST_PASSWORD } }), 401, 'user_disabled');
    expectError(await call(server.url, 'POST', '/api/auth/login', { body: { username, password: 'wrong-password' } }), 401, 'invalid_credentials');

    expect((await as(admin, 'PATCH', `/api/users/${username}`, { disabled: false })).status).toBe(200);
    await refused(one, username, 401, 'token_revoked');
    await works((await server.login(username)).token);
  });

  test('a role change ends every token of the user (401 token_revoked); the next sign-in has the new role', async () => {
    const { username, one, two } = await twoSessions();
    expect((await as(admin, 'PATCH', `/api/users/${username}`, { role: 'admin' })).status).toBe(200);
    await refused(one, username, 401, 'token_revoked');
    await refused(two, username, 401, 'token_revoked');
    expect((await as(one, 'GET', '/api/auth/me')).body.error.message).toMatch(/role was changed/);
    const fresh = await server.login(username);
    expect(fresh.user.role).toBe('admin');
    expect((await as(fresh.token, 'GET', '/api/users')).status).toBe(200);
  });

  test('a display name change ends nothing', async () => {
    const { username, one } = await twoSessions();
    expect((await as(admin, 'PATCH', `/api/users/${username}`, { displayName: 'Renamed' })).status).toBe(200);
    expect((await as(one, 'GET', '/api/auth/me')).body).toMatchObject({ displayName: 'Renamed' });
  });

  test('a password reset ends every token of the user (401 token_revoked); the old password no longer signs in', async () => {
    const { username, one, two } = await twoSessions();
    expect((await as(admin, 'POST', `/api/users/${username}/password`, { password: 'plum-orchard-quiet' })).status).toBe(204);
    await refused(one, username, 401, 'token_revoked');
    await refused(two, username, 401, 'token_revoked');
    expect((await as(two, 'GET', '/api/auth/me')).body.error.message).toMatch(/reset by the site's admin/);
    expectError(await call(server.url, 'POST', '/api/auth/login', { body: { username, password: TEST_PASSWORD } }), 401, 'invalid_credentials');
    expect((await server.login(username, 'plum-orchard-quiet')).mustChangePassword).toBe(true);
  });

  test("a user's own password change answers a new token and ends every other token of theirs", async () => {
    const { username, one, two } = await twoSessions('first-own-password');
    const r = await as(one, 'POST', '/api/auth/password', { currentPassword: 'first-own-password', newPassword: 'second-own-password' });
    expect(r.status).toBe(200);
    await works(r.body.token);
    await refused(one, username, 401, 'token_revoked');
    await refused(two, username, 401, 'token_revoked');
    expect((await as(two, 'GET', '/api/auth/me')).body.error.message).toMatch(/password was changed/);
    expectError(
      await call(server.url, 'POST', '/api/auth/login', { body: { username, password: 'first-own-password' } }),
      401,
      'invalid_credentials',
    );
    await works((await server.login(username, 'second-own-password')).token);
  });

  test('wrong current passwords count against the sign-in limit: after too many, 429', async () => {
    const { one } = await twoSessions();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push((await as(one, 'POST', '/api/auth/password', { currentPassword: `guess-${i}-wrong`, newPassword: 'a-brand-new-one' })).status);
    }
    expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  test('a session ended by the site admin: that token is 401 token_revoked, the user on another device stays signed in', async () => {
    const { username, one, two } = await twoSessions();
    const mine = (await sessions()).filter((s) => s.username === username);
    expect(mine.map((s) => s.deviceId).sort()).toEqual([`dev-one-${username}`, `dev-two-${username}`]);
    const target = mine.find((s) => s.deviceId === `dev-one-${username}`)!;
    expect((await as(admin, 'DELETE', `/api/sessions/${target.id}`)).status).toBe(204);
    await refused(one, username, 401, 'token_revoked');
    expect((await as(one, 'GET', '/api/auth/me')).body.error.message).toMatch(/admin ended this session/);
    await works(two);
    expect((await sessions()).map((s) => s.id)).not.toContain(target.id);
    expectError(await as(admin, 'DELETE', `/api/sessions/${target.id}`), 404, 'not_found');
  });

  test('a token without a session (as an earlier version made them) is 401 token_revoked', async () => {
    const { user } = await server.login('anna');
    const { token } = issueToken(parseEnv({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET }), user);
    expectError(await as(token, 'GET', '/api/auth/me'), 401, 'token_revoked');
    const forged = jwt.sign({ sid: randomUUID() }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      subject: String(user.id),
      issuer: 'sems-dispense',
      audience: 'sems-dispense-api',
    });
    expectError(await as(forged, 'GET', '/api/auth/me'), 401, 'token_revoked');
    const notUuid = jwt.sign({ sid: "x' OR 1=1" }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      subject: String(user.id),
      issuer: 'sems-dispense',
      audience: 'sems-dispense-api',
    });
    expectError(await as(notUuid, 'GET', '/api/auth/me'), 401, 'token_revoked');
  });

  test("another user's session id in a token is no session of this user", async () => {
    const { one } = await twoSessions();
    const sid = (jwt.decode(one) as { sid: string }).sid;
    const { user } = await server.login('anna');
    const borrowed = jwt.sign({ sid }, TEST_JWT_SECRET, {
      algorithm: 'HS256',
      subject: String(user.id),
      issuer: 'sems-dispense',
      audience: 'sems-dispense-api',
    });
    expectError(await as(borrowed, 'GET', '/api/auth/me'), 401, 'token_revoked');
  });
});

describe("the site's live sessions", () => {
  test("the admin sees who, on which device, since when and last seen; ended, expired and disabled users' ones are not listed", async () => {
    const { username, one } = await twoSessions();
    const listed = (await sessions()).filter((s) => s.username === username);
    expect(listed).toHaveLength(2);
    for (const s of listed) {
      expect(s).toMatchObject({ displayName: username, current: false });
      expect(Date.parse(s.expiresAt) - Date.parse(s.startedAt)).toBe(24 * 60 * 60 * 1000);
    }
    expect((await sessions()).filter((s) => s.current).map((s) => s.username)).toEqual(['anna']);
    expect(await sessions((await server.login('bert')).token)).toEqual([expect.objectContaining({ username: 'bert' })]);

    expect((await as(one, 'POST', '/api/auth/logout')).status).toBe(204);
    expect((await sessions()).filter((s) => s.username === username)).toHaveLength(1);
    await sql.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = (SELECT id FROM users WHERE username = $1)", [
      username,
    ]);
    expect((await sessions()).filter((s) => s.username === username)).toHaveLength(0);

    const other = await twoSessions();
    expect((await sessions()).filter((s) => s.username === other.username)).toHaveLength(2);
    expect((await as(admin, 'PATCH', `/api/users/${other.username}`, { disabled: true })).status).toBe(200);
    expect((await sessions()).filter((s) => s.username === other.username)).toHaveLength(0);
  });

  test('last seen is written at most once a minute per session, and the first device a session names is kept', async () => {
    const username = `p-${randomUUID().slice(0, 8)}`;
    await seedUsers(server.db, [{ username, siteId: 'site-a' }]);
    const { token } = await server.login(username); // no device named at sign-in
    const row = async () =>
      (await sql.query('SELECT device_id, last_seen_at FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)', [username]))
        .rows[0];
    const started = await row();
    expect(started.device_id).toBeNull();
    for (let i = 0; i < 5; i++) await works(token);
    expect(await row()).toEqual(started); // seen within the minute: nothing written

    await as(token, 'GET', '/api/auth/me', undefined, { 'x-device-id': 'counter-7' });
    await eventually(async () => (await row()).device_id === 'counter-7', { timeout: 5000, what: 'the session on device counter-7' });
    await sql.query("UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE user_id = (SELECT id FROM users WHERE username = $1)", [
      username,
    ]);
    const old = (await row()).last_seen_at as Date;
    await as(token, 'GET', '/api/auth/me', undefined, { 'x-device-id': 'counter-8' });
    await eventually(async () => ((await row()).last_seen_at as Date) > old, { timeout: 5000, what: 'a later last_seen_at' });
    expect((await row()).device_id).toBe('counter-7');
  });

  test('DELETE of a session that is not one of the site is 404: another site, unknown, not an id', async () => {
    const bertToken = (await server.login('bert')).token;
    const theirs = (await sessions(bertToken))[0];
    expectError(await as(admin, 'DELETE', `/api/sessions/${theirs.id}`), 404, 'not_found');
    await works(bertToken);
    expectError(await as(admin, 'DELETE', `/api/sessions/${randomUUID()}`), 404, 'not_found');
    expectError(await as(admin, 'DELETE', '/api/sessions/not-an-id'), 404, 'not_found');
  });

  test('a pharmacist gets 403 on the sessions and cannot end one', async () => {
    const { one, two } = await twoSessions();
    const target = (await sessions())[0];
    expectError(await as(one, 'GET', '/api/sessions'), 403, 'forbidden');
    expectError(await as(one, 'DELETE', `/api/sessions/${target.id}`), 403, 'forbidden');
    await works(two);
    expect((await sessions()).map((s) => s.id)).toContain(target.id);
  });
});
