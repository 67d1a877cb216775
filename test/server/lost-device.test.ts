/**
 * A lost device, revoked by the site's admin: its sessions end, and sign-in, push, pull and the
 * device report naming it answer 403 device_revoked, even after a fresh sign-in from it, until
 * the admin restores it. The devices list keeps showing it, revoked, with the unsent records it
 * last reported. A pharmacist gets 403, another site's admin 404.
 */
import pg from 'pg';
import { devicesResponseSchema } from '../../schemas/devices';
import { adminLogPageSchema } from '../../schemas/staff';
import { call, expectError, pull, push, pushBody, TEST_PASSWORD, type Reply } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

let server: TestServer;
let sql: pg.Pool;
let admin: string;
let otherAdmin: string;

const LOST = 'lost-tablet-1';
const KEPT = 'counter-pc-2';

beforeAll(async () => {
  server = await startTestServer();
  sql = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  await seedUsers(server.db, [
    { username: 'anna', siteId: 'site-a', role: 'admin' },
    { username: 'alice', siteId: 'site-a' },
    { username: 'bert', siteId: 'site-b', role: 'admin' },
  ]);
  admin = (await server.login('anna')).token;
  otherAdmin = (await server.login('bert')).token;
});

afterAll(async () => {
  await sql?.end();
  await server?.stop();
});

const signIn = (device?: string) =>
  call(server.url, 'POST', '/api/auth/login', {
    body: { username: 'alice', password: TEST_PASSWORD },
    headers: device ? { 'x-device-id': device } : {},
  });

const report = (token: string, device: string, pendingCount = 0): Promise<Reply> =>
  call(server.url, 'POST', '/api/sync/devices/report', {
    token,
    headers: { 'x-device-id': device },
    body: {
      pendingCount,
      oldestPendingAt: pendingCount ? '2026-12-01T08:00:00.000Z' : null,
      appVersion: '0.1.0',
      madeCount: 5,
      deviceTime: new Date().toISOString(),
    },
  });

const pullFrom = (token: string, device: string) =>
  call(server.url, 'GET', '/api/sync/dispenses/pull', { token, headers: { 'x-device-id': device } });

const pushFrom = (token: string, device: string) => {
  const record = makeDispense({ siteId: 'site-a', dispensedBy: 'alice' });
  return push(server.url, token, pushBody([record]), { headers: { 'x-device-id': device } }).then((r) => ({ r, record }));
};

const stored = async (externalId: string) => (await sql.query('SELECT 1 FROM dispenses WHERE external_id = $1', [externalId])).rows.length;

async function theDevice(id: string) {
  const r = await call(server.url, 'GET', '/api/sync/devices', { token: admin });
  return devicesResponseSchema.parse(r.body).devices.find((d) => d.deviceId === id);
}

test('who may revoke and restore: a pharmacist 403, another site 404, an unknown device 404, the admin 204', async () => {
  const alice = (await signIn(LOST)).body.token as string;
  expect((await report(alice, LOST, 3)).status).toBe(200);
  for (const action of ['revoke', 'restore']) {
    expectError(await call(server.url, 'POST', `/api/sync/devices/${LOST}/${action}`, { token: alice }), 403, 'forbidden');
    expectError(await call(server.url, 'POST', `/api/sync/devices/${LOST}/${action}`, { token: otherAdmin }), 404, 'not_found');
    expectError(await call(server.url, 'POST', `/api/sync/devices/no-such-device/${action}`, { token: admin }), 404, 'not_found');
    expectError(await call(server.url, 'POST', `/api/sync/devices/${encodeURIComponent('bad id!')}/${action}`, { token: admin }), 404, 'not_found');
  }
  expect((await theDevice(LOST))?.revokedAt).toBeNull();
});

describe('a revoked device', () => {
  let onLost: string;
  let onKept: string;
  beforeAll(async () => {
    onLost = (await signIn(LOST)).body.token;
    onKept = (await signIn(KEPT)).body.token;
    expect((await report(onLost, LOST, 3)).status).toBe(200);
    expect((await report(onKept, KEPT)).status).toBe(200);
    expect((await pushFrom(onLost, LOST)).r.status).toBe(200);
    expect((await call(server.url, 'POST', `/api/sync/devices/${LOST}/revoke`, { token: admin })).status).toBe(204);
  });

  test('its session ends: push, pull and report from it are 403 device_revoked and write nothing; without the header the token is 401 token_revoked', async () => {
    const { r, record } = await pushFrom(onLost, LOST);
    expectError(r, 403, 'device_revoked');
    expect(await stored(record.externalId)).toBe(0);
    expectError(await pullFrom(onLost, LOST), 403, 'device_revoked');
    expectError(await report(onLost, LOST, 0), 403, 'device_revoked');
    expectError(await call(server.url, 'GET', '/api/auth/me', { token: onLost }), 401, 'token_revoked');
    expectError(await pull(server.url, onLost), 401, 'token_revoked');
  });

  test('a fresh sign-in from it is 403 device_revoked; a sign-in that does not name it still cannot push or pull from it', async () => {
    expectError(await signIn(LOST), 403, 'device_revoked');
    const unnamed = (await signIn()).body.token as string;
    const { r, record } = await pushFrom(unnamed, LOST);
    expectError(r, 403, 'device_revoked');
    expect(await stored(record.externalId)).toBe(0);
    expectError(await pullFrom(unnamed, LOST), 403, 'device_revoked');
    // The wrong password from the revoked device is a wrong password: the device learns nothing more.
    const wrong = await call(server.url, 'POST', '/api/auth/login', {
      body: { username: 'alice', password: 'not-hers-at-all' },
      headers: { 'x-device-id': LOST },
    });
    expectError(wrong, 401, 'invalid_credentials');
  });

  test("the user's other device keeps working", async () => {
    const { r, record } = await pushFrom(onKept, KEPT);
    expect(r.status).toBe(200);
    expect(await stored(record.externalId)).toBe(1);
    expect((await pullFrom(onKept, KEPT)).status).toBe(200);
  });

  test('the devices list shows it revoked, with the unsent records it last reported', async () => {
    expect(await theDevice(LOST)).toMatchObject({ revokedAt: expect.any(String), pendingCount: 3, oldestPendingAt: '2026-12-01T08:00:00.000Z' });
    expect((await theDevice(KEPT))?.revokedAt).toBeNull();
  });

  test('restored, it signs in and syncs again; the sessions the revoke ended stay ended; both actions are in the admin log', async () => {
    expect((await call(server.url, 'POST', `/api/sync/devices/${LOST}/restore`, { token: admin })).status).toBe(204);
    expect((await theDevice(LOST))?.revokedAt).toBeNull();
    const again = await signIn(LOST);
    expect(again.status).toBe(200);
    const { r } = await pushFrom(again.body.token, LOST);
    expect(r.status).toBe(200);
    expectError(await pullFrom(onLost, LOST), 401, 'token_revoked');

    const log = adminLogPageSchema.parse((await call(server.url, 'GET', '/api/admin-log?limit=5', { token: admin })).body);
    expect(log.entries.slice(0, 2).map((e) => [e.action, e.target, e.actor])).toEqual([
      ['device.restore', LOST, 'anna'],
      ['device.revoke', LOST, 'anna'],
    ]);
    expect(log.entries[1].details).toEqual({ sessionsEnded: 2 }); // the two sign-ins from it before the revoke
  });
});
