/**
 * What a device learns at its next online contact after a user's access changed: the sign-in
 * answer and each device report's answer name the site's users who may sign in, each with a
 * stamp of their access, so the device drops the offline verifier of a user disabled, reset,
 * or whose password changed. And the records of a disabled user that a shared device sends later:
 * those made before the disable land, those made after are rejected as user_disabled.
 */
import pg from 'pg';
import { loginResponseSchema } from '../../schemas/api';
import { deviceReportResponseSchema } from '../../schemas/devices';
import { call, expectError, push, pushBody, TEST_PASSWORD } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let sql: pg.Pool;
let admin: string;

beforeAll(async () => {
  server = await startTestServer();
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'alice', siteId: 'site-a' },
    { username: 'bob', siteId: 'site-a' },
    { username: 'carol', siteId: 'site-a' },
    { username: 'zed', siteId: 'site-b' },
  ]);
  admin = (await server.login('anna')).token;
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const report = async (token: string) => {
  const r = await call(server.url, 'POST', '/api/sync/devices/report', {
    token,
    headers: { 'x-device-id': 'shared-counter' },
    body: { pendingCount: 0, oldestPendingAt: null, appVersion: '0.1.0', madeCount: 0, deviceTime: new Date().toISOString() },
  });
  expect(r.status).toBe(200);
  return deviceReportResponseSchema.parse(r.body).offlineAccess;
};

test("the sign-in answer names the site's users who may sign in, each with a stamp; no other site's", async () => {
  const answer = loginResponseSchema.parse(
    (await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: TEST_PASSWORD } })).body,
  );
  expect(Object.keys(answer.offlineAccess).sort()).toEqual(['alice', 'anna', 'bob', 'carol']);
  expect(answer.offlineAccess.alice).toMatch(/^\d+$/);
});

test("a device report's answer drops a disabled user and changes the stamp of a user whose password was reset or changed; a rename changes nothing", async () => {
  const { token } = await server.login('alice');
  const before = await report(token);

  expect((await call(server.url, 'PATCH', '/api/users/bob', { token: admin, body: { disabled: true } })).status).toBe(200);
  expect((await call(server.url, 'POST', '/api/users/carol/password', { token: admin, body: { password: 'meadow-lark-sings' } })).status).toBe(204);
  expect((await call(server.url, 'PATCH', '/api/users/anna', { token: admin, body: { displayName: 'Anna A.' } })).status).toBe(200);
  const after = await report(token);
  expect(after).not.toHaveProperty('bob');
  expect(after.carol).not.toBe(before.carol);
  expect(after.anna).toBe(before.anna);
  expect(after.alice).toBe(before.alice);

  // Alice changes her own password: her stamp changes too, and the change's answer carries the new one.
  const changed = await call(server.url, 'POST', '/api/auth/password', {
    token,
    body: { currentPassword: TEST_PASSWORD, newPassword: 'alice-new-secret' },
  });
  expect(changed.status).toBe(200);
  const answer = loginResponseSchema.parse(changed.body);
  expect(answer.offlineAccess.alice).not.toBe(before.alice);
  expect(await report(answer.token)).toEqual(answer.offlineAccess);
});

describe('records of a disabled user sent later from a shared device', () => {
  test('made before the disable: they land; made after: rejected as user_disabled, and the rest of the batch lands', async () => {
    await seedUsers(server.db, [{ username: 'dan', siteId: 'site-a' }]);
    const { token } = await server.login('anna');
    // dan records offline on the shared counter, is disabled, and records again (the device had not yet heard).
    const before = makeDispense({ siteId: 'site-a', dispensedBy: 'dan', updatedAt: new Date(Date.now() - 60_000).toISOString() });
    expect((await call(server.url, 'PATCH', '/api/users/dan', { token: admin, body: { disabled: true } })).status).toBe(200);
    const after = makeDispense({ siteId: 'site-a', dispensedBy: 'dan', updatedAt: new Date(Date.now() + 1000).toISOString() });
    const annas = makeDispense({ siteId: 'site-a', dispensedBy: 'anna' });

    const r = await push(server.url, token, pushBody([before, after, annas]));
    expect(r.status).toBe(200);
    expect(r.body.conflicts).toEqual([]);
    expect(r.body.rejected).toEqual([
      { externalId: after.externalId, code: 'user_disabled', message: expect.stringMatching(/dan's account was disabled/) },
    ]);
    const { rows } = await sql.query('SELECT external_id FROM dispenses WHERE external_id = ANY($1::uuid[])', [
      [before.externalId, after.externalId, annas.externalId],
    ]);
    expect(rows.map((x) => x.external_id).sort()).toEqual([before.externalId, annas.externalId].sort());
  });

  test("a disabled user's own token pushes nothing", async () => {
    await seedUsers(server.db, [{ username: 'eve', siteId: 'site-a' }]);
    const { token } = await server.login('eve');
    expect((await call(server.url, 'PATCH', '/api/users/eve', { token: admin, body: { disabled: true } })).status).toBe(200);
    const record = makeDispense({ siteId: 'site-a', dispensedBy: 'eve', updatedAt: new Date(Date.now() - 60_000).toISOString() });
    expectError(await push(server.url, token, pushBody([record])), 401, 'user_disabled');
    expect((await sql.query('SELECT 1 FROM dispenses WHERE external_id = $1', [record.externalId])).rows).toEqual([]);
  });
});
