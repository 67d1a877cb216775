/**
 * The device report and the first push of a session, in Node: RxDB on fake-indexeddb, the app's
 * sync, the real server and PostgreSQL. The first run reports before it pushes, so the audit rows
 * of a brand-new device's first push keep its measured clock offset.
 */
import '../support/local-storage';
import { createDispenses } from '../../client/data/records';
import { useSyncStatus } from '../../client/stores/sync-status';
import { inputFor, newBrowser, startDevice, type Device } from '../support/device';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
const open: Device[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('clocky', 'site-first-report');
});
afterAll(async () => {
  for (const d of open.splice(0)) await d.remove();
  await server?.stop();
});

test("a new device's first push, right after it starts, is audited with the device's clock offset, and the device is known to the server before it", async () => {
  const { token } = await server.login('clocky');
  const browser = newBrowser();
  const db = await browser.open();
  const deviceId = 'dev-first-report';
  const [record] = await createDispenses(db, [inputFor(1)], { username: 'clocky', siteId: 'site-first-report' });
  const device = await startDevice(db, browser, {
    name: 'clocky',
    deviceId,
    baseUrl: server.url,
    user: { username: 'clocky', siteId: 'site-first-report' },
    getToken: () => token,
    scheduler: {},
  });
  open.push(device);
  const { sync } = device;
  // "Sync now" at once: before the reports' one second of quiet has passed.
  await sync.syncNow();
  expect(useSyncStatus.getState().pendingCount).toBe(0);

  const [audit] = await server.db('audit_logs').where({ entity_id: record.externalId });
  expect(audit).toMatchObject({ action: 'create', device_id: deviceId });
  expect(audit.clock_offset_ms).not.toBeNull();
  expect(Math.abs(Number(audit.clock_offset_ms))).toBeLessThan(5000); // one machine: the offset is the round trip at most
  const [known] = await server.db('devices').where({ device_id: deviceId });
  expect(known).toMatchObject({ site_id: 'site-first-report', made_count: 1 });
});
