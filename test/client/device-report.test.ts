/**
 * The device report and the first push of a session, in Node: RxDB on fake-indexeddb, the app's
 * sync, the real server and PostgreSQL. The first run reports before it pushes, so the audit rows
 * of a brand-new device's first push keep its measured clock offset.
 */
import '../support/local-storage';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispenses } from '../../client/data/records';
import { useSyncStatus } from '../../client/stores/sync-status';
import { startSync, type SyncController } from '../../client/sync';
import { startTestServer, type TestServer } from '../support/server';
import { inputFor, newBrowser } from '../support/device';

let server: TestServer;
const open: { db: DispenseDatabase; sync: SyncController }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('clocky', 'site-first-report');
});
afterAll(async () => {
  for (const o of open.splice(0)) {
    await o.sync.stop();
    if (!o.db.closed) await o.db.remove();
  }
  await server?.stop();
});

test("a new device's first push, right after it starts, is audited with the device's clock offset, and the device is known to the server before it", async () => {
  const { token } = await server.login('clocky');
  const db = await newBrowser().open();
  const deviceId = 'dev-first-report';
  const [record] = await createDispenses(db, [inputFor(1)], { username: 'clocky', siteId: 'site-first-report' });
  const sync = startSync(db, { baseUrl: server.url, siteId: 'site-first-report', getToken: () => token, deviceId });
  open.push({ db, sync });
  for (let i = 0; i < 200 && !useSyncStatus.getState().isLeader; i++) await new Promise((r) => setTimeout(r, 10));
  // "Sync now" at once: before the reports' one second of quiet has passed.
  await sync.syncNow();
  expect(useSyncStatus.getState().pendingCount).toBe(0);

  const [audit] = await server.db('audit_logs').where({ entity_id: record.externalId });
  expect(audit).toMatchObject({ action: 'create', device_id: deviceId });
  expect(audit.clock_offset_ms).not.toBeNull();
  expect(Math.abs(Number(audit.clock_offset_ms))).toBeLessThan(5000); // one machine: the offset is the round trip at most
  const [device] = await server.db('devices').where({ device_id: deviceId });
  expect(device).toMatchObject({ site_id: 'site-first-report', made_count: 1 });
});
