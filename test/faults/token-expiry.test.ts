/**
 * Scenario 4, the token expires in the middle of a long sync: the device's token (a real one,
 * signed by the server's secret, issued with a lifetime of seconds) runs out between the
 * second and third batch. The client must stop, keep everything not yet confirmed pending, not
 * retry on its own with the refused token, and after a new sign-in resume from its checkpoint
 * (not from the start): nothing is written twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { useSyncStatus } from '../../client/stores/sync-status';
import type { Dispense } from '../../schemas/dispense';
import { signedInAnswer } from '../../server/auth';
import { parseEnv } from '../../server/env';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server';
import { eventually } from '../support/eventually';
import { inspectDatabase, lostRecords } from '../support/inspect';
import { report, scaled, since } from './support/results';
import { openDevice, type Device } from '../support/device';

const BATCH = 500;
const RECORDS = Math.max(3 * BATCH, Math.round(scaled(3000) / BATCH) * BATCH);
const TTL_SECONDS = 20; // long enough for two batches on a busy machine; the third waits for the expiry

let database: TestDatabase;
let server: TestServer;
let client: Device | undefined;

beforeAll(async () => {
  database = await createTestDatabase('sems_faults');
  server = await startTestServer({}, { database });
  await server.addUser('night', 'site-a');
});

afterAll(async () => {
  await client?.remove().catch(() => {});
  await server?.stop();
  await database?.drop();
});

test('a token that expires mid-sync stops the sync with records pending; after sign-in it resumes from the checkpoint and nothing is written twice', async () => {
  const started = Date.now();
  const { user } = await server.login('night');
  const config = parseEnv({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET });
  // A real session of the user, signed with the server's secret, that lives TTL_SECONDS.
  const shortSession = () => signedInAnswer(server.db, { ...config, TOKEN_TTL_SECONDS: TTL_SECONDS }, user, null, false);
  let shortLived = await shortSession();
  let token: string | null = null;
  let unauthorized = 0;
  let pushNumber = 0;
  client = await openDevice({
    name: 'night',
    baseUrl: server.url,
    user: { username: 'night', siteId: 'site-a' },
    getToken: () => token,
    batchSize: BATCH,
    requestsPerBatch: 1, // a checkpoint per request: the test is about resuming from it
    onUnauthorized: () => unauthorized++,
    // The third batch leaves after the token has expired: the sync is long, the session is not.
    beforePush: async () => {
      if (++pushNumber === 3) await sleep(Math.max(0, Date.parse(shortLived.expiresAt) - Date.now()) + 1100);
    },
  });
  await client.make(RECORDS, 0);
  // The panel's count follows the run's checkpoint a moment after the run (as before: a count that never comes is left to the assertion).
  const panelCount = (n: number) =>
    eventually(() => useSyncStatus.getState().pendingCount === n, { timeout: 5000, what: `the panel to count ${n} pending` }).catch(() => {});

  // Signed in just now, with a session that lasts a few seconds.
  shortLived = await shortSession();
  token = shortLived.token;
  await client.sync.syncNow();
  const afterExpiry = { statuses: new Map(client.seen.statuses), marks: await client.marks(), rows: (await inspectDatabase(database.url)).rows };
  expect(afterExpiry.statuses.get(401)).toBe(1);
  // The batches sent before the expiry landed (two, or three on a loaded machine: the expiry is a
  // wall-clock event); whole batches only, and the rest stays pending, none dropped.
  const landed = afterExpiry.rows;
  expect(landed % BATCH).toBe(0);
  expect(landed).toBeGreaterThanOrEqual(2 * BATCH);
  expect(landed).toBeLessThan(RECORDS);
  // Pending: the records after RxDB's checkpoint, which moves per persistence task (up to four
  // batches). Batches the server took in the task that met the 401 still count, so the count may
  // be higher than what the server lacks, never lower; the first batch was acknowledged.
  expect(afterExpiry.marks.pending).toBeGreaterThanOrEqual(RECORDS - landed);
  expect(afterExpiry.marks.pending).toBeLessThanOrEqual(RECORDS - BATCH);
  await panelCount(afterExpiry.marks.pending);
  expect(useSyncStatus.getState()).toMatchObject({ needsSignIn: true, pendingCount: afterExpiry.marks.pending });
  expect(useSyncStatus.getState().lastError).toMatch(/token_expired/);
  expect(unauthorized).toBe(1);

  // Signed out, the pharmacist keeps working: new records and an edit of a confirmed one.
  const extra = await client.make(50, RECORDS);
  const confirmed = (await client.syncedIds())[0];
  await client.edit(confirmed, 'checked while signed out');
  // No retry on its own with the refused token (backoff is 200 ms in these tests, at most 2 s): a
  // time without pushes is what is asserted, so this one wait is a sleep.
  const pushesBefore = client.seen.pushes;
  await sleep(2000);
  expect(client.seen.pushes).toBe(pushesBefore);

  // A new sign-in: the run resumes from the checkpoint.
  token = (await server.login('night')).token;
  const rowsBefore = client.seen.rows;
  await client.syncUntilDone(120_000);
  const sentAfter = client.seen.rows - rowsBefore;
  const pendingThen = RECORDS - landed + extra.length + 1;
  // Everything pending is sent: what the server lacks, and the batches it took in the task that
  // met the 401 (sent again, the server writes nothing for them); the run resumes from the
  // checkpoint, not from the start.
  const resentAcked = sentAfter - pendingThen;
  expect(resentAcked).toBeGreaterThanOrEqual(0);
  expect(resentAcked).toBeLessThanOrEqual(3 * BATCH);
  await panelCount(0);
  expect(useSyncStatus.getState()).toMatchObject({ needsSignIn: false, pendingCount: 0 });

  const expected: Map<string, Dispense> = await client.records();
  const found = await inspectDatabase(database.url);
  const lost = lostRecords(expected, found);
  const fiveXx = [...client.seen.statuses].reduce((s, [st, n]) => s + (st >= 500 ? n : 0), 0);
  await report({
    id: '4',
    scenario: 'Token expires mid-sync, sign-in resumes from the checkpoint',
    records: expected.size,
    faults: '1 token expiry between batches 2 and 3',
    faultCount: 1,
    lost: lost.length,
    duplicated: found.duplicated,
    http5xx: fiveXx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: expected.size + 1,
    seconds: since(started),
    notes: `${client.seen.pushes} pushes with ${client.seen.rows} rows: ${afterExpiry.rows} landed before the expiry, ${RECORDS - afterExpiry.rows} stayed pending; after sign-in ${sentAfter} rows sent: the ${pendingThen} pending plus ${resentAcked} already taken (RxDB's checkpoint is per persistence task), which the server wrote nothing for; audit chain breaks ${found.auditChainBreaks.length}`,
  });

  expect(lost).toEqual([]);
  expect(found.rows).toBe(RECORDS + extra.length);
  expect(found.duplicated).toBe(0);
  expect(found.invalid).toEqual([]);
  expect(found.auditChainBreaks).toEqual([]);
  expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
  expect(found.audit).toBe(RECORDS + extra.length + 1);
  expect(fiveXx).toBe(0);
}, 300_000);
