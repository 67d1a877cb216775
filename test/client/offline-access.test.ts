/**
 * A device drops offline verifiers at its next online contact after the server's word changed, in
 * Node: the app's sync and offline accounts, RxDB on fake-indexeddb, the real server and
 * PostgreSQL. A colleague disabled or reset: their verifier goes with the next device report;
 * the device revoked: every verifier of the site goes, and the sync asks for a sign-in.
 */
import '../support/local-storage';
import { rememberOnlineSignIn, signInOffline, useOfflineAccounts } from '../../client/offline/accounts';
import { useSyncStatus } from '../../client/stores/sync-status';
import { call } from '../support/api';
import { openDevice, type Device } from '../support/device';
import { eventually } from '../support/eventually';
import { startTestServer, type TestServer } from '../support/server';
import { seedUsers } from '../support/users';

const SITE = 'site-offline-access';
const DEVICE = 'shared-counter-1';
const WEEK = 7 * 86_400;
let server: TestServer;
let admin: string;
let device: Device | undefined;

beforeAll(async () => {
  server = await startTestServer();
  await seedUsers(server.db, [
    { username: 'ada', siteId: SITE, role: 'admin' },
    { username: 'pam', siteId: SITE, password: 'pam-password-1' },
    { username: 'pat', siteId: SITE, password: 'pat-password-1' },
    { username: 'pia', siteId: SITE, password: 'pia-password-1' },
  ]);
  admin = (await server.login('ada')).token;
});

afterAll(async () => {
  await device?.remove();
  await server?.stop();
});

const known = () => Object.keys(useOfflineAccounts.getState().accounts).sort();

test('a colleague disabled, another reset: their verifiers go at the next report; revoking the device takes every verifier of the site', async () => {
  // Each signed in online on this shared counter once: the device keeps their verifiers.
  for (const [username, password] of [
    ['pam', 'pam-password-1'],
    ['pat', 'pat-password-1'],
    ['pia', 'pia-password-1'],
  ]) {
    const answer = await server.login(username, password);
    await rememberOnlineSignIn(answer.user, password, WEEK, true, answer.offlineAccess[username]);
  }
  expect(known()).toEqual(['pam', 'pat', 'pia']);

  const { token } = await server.login('pam', 'pam-password-1');
  device = await openDevice({
    name: 'pam',
    deviceId: DEVICE,
    baseUrl: server.url,
    user: { username: 'pam', siteId: SITE },
    getToken: () => token,
    scheduler: {},
  });
  const { sync } = device;
  await sync.syncNow();
  // The first report vouches for all three: nothing dropped.
  expect(known()).toEqual(['pam', 'pat', 'pia']);

  expect((await call(server.url, 'PATCH', '/api/users/pat', { token: admin, body: { disabled: true } })).status).toBe(200);
  expect((await call(server.url, 'POST', '/api/users/pia/password', { token: admin, body: { password: 'given-by-ada-1' } })).status).toBe(204);
  await sync.syncNow();
  await eventually(() => known().join() === 'pam', { what: "pam's verifier alone" });
  await expect(signInOffline('pat', 'pat-password-1')).rejects.toMatchObject({ refusal: { code: 'unknown' } });
  await expect(signInOffline('pam', 'pam-password-1')).resolves.toMatchObject({ username: 'pam' });

  expect((await call(server.url, 'POST', `/api/sync/devices/${DEVICE}/revoke`, { token: admin })).status).toBe(204);
  await sync.syncNow();
  await eventually(() => known().length === 0, { what: 'no verifier left' });
  expect(useSyncStatus.getState()).toMatchObject({ needsSignIn: true });
  expect(useSyncStatus.getState().lastError).toMatch(/device_revoked/);
});
