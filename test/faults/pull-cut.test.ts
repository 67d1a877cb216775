/**
 * Scenario 9, the pull's answer lost or cut: a device of the site pulls the site's records
 * through a fetch that, on cue, drops the server's answer (the server sent it, the device never
 * hears it) or cuts its body in the middle. Each fault ends the run; the next run resumes from
 * the last batch RxDB wrote. In the end the device holds every record of the site exactly once,
 * each as the server holds it, and none of them is pending.
 */
import { createDispenses } from '../../client/data/records';
import type { Dispense } from '../../schemas/dispense';
import { inputFor, openDevice, type DeviceOptions } from '../support/device';
import { startTestServer, type TestServer } from '../support/server';
import { report, scaled, since } from './support/results';

const RECORDS = scaled(2500);
const BATCH = 250; // records a pull answer carries at most
const FAULTS = 6;

jest.setTimeout(240_000);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('maker', 'site-pull-cut');
  await server.addUser('reader', 'site-pull-cut');
});
afterAll(async () => {
  await server?.stop();
});

/** A device of the site, signed in as `username` (its device id is its name). */
const siteDevice = (username: string, token: string, opts: Partial<DeviceOptions>) =>
  openDevice({
    name: username,
    deviceId: username,
    baseUrl: server.url,
    user: { username, siteId: 'site-pull-cut' },
    getToken: () => token,
    ...opts,
  });

test(`${FAULTS} pull answers lost or cut in the middle: the device ends with every record of the site once, none pending`, async () => {
  const started = Date.now();
  // The site's records, made on another device and pushed.
  const makerToken = (await server.login('maker')).token;
  const maker = await siteDevice('maker', makerToken, { scheduler: {} });
  const now = Date.now();
  await createDispenses(
    maker.db,
    Array.from({ length: RECORDS }, (_, i) => inputFor(i, { dispensedAt: new Date(now - i * 60_000).toISOString() })),
    {
      username: 'maker',
      siteId: 'site-pull-cut',
    },
  );
  await maker.syncNow();
  await maker.remove();

  // The reader: every few pulls, an answer lost after the server sent it, or cut in its body.
  const readerToken = (await server.login('reader')).token;
  let pulls = 0;
  let faults = 0;
  const faulty: typeof fetch = async (url, init) => {
    const res = await fetch(url, init);
    if (!String(url).includes('/api/sync/dispenses/pull') || faults >= FAULTS || ++pulls % 3 !== 2) return res;
    faults += 1;
    if (faults % 2 === 1) throw new TypeError('fetch failed'); // the answer lost
    const body = await res.text();
    return new Response(body.slice(0, Math.floor(body.length / 2)), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const reader = await siteDevice('reader', readerToken, { fetch: faulty, pullBatchSize: BATCH, scheduler: { backoffBaseMs: 10, backoffMaxMs: 50 } });
  const held = () => reader.db.dispenses.count().exec();
  // Runs until it holds them all, bounded in time: a pull sees a change once every older
  // transaction on the PostgreSQL server has ended, which another suite can hold back a while.
  await reader.syncUntil('every record of the site', async () => (await held()) >= RECORDS, 120_000).catch(() => {});

  const onServer = (await server.db('dispenses').where({ site_id: 'site-pull-cut' }).select('external_id')).map(
    (r: { external_id: string }) => r.external_id,
  );
  const onDevice = (await reader.db.dispenses.find().exec()).map((d) => d.toJSON() as Dispense);
  const ids = onDevice.map((d) => d.externalId);
  const missing = onServer.filter((id: string) => !ids.includes(id)).length;
  const doubled = ids.length - new Set(ids).size;
  const pending = await reader.pending();
  await reader.remove();

  await report({
    id: '9',
    scenario: 'pull answers lost or cut',
    records: RECORDS,
    faults: `${faults} pull answers lost or cut`,
    faultCount: faults,
    lost: missing,
    duplicated: doubled,
    http5xx: 0,
    invalidStored: 0,
    auditRows: onDevice.length,
    auditExpected: RECORDS,
    seconds: since(started),
    notes: `device holds ${onDevice.length} of ${onServer.length}; ${pending} pending after; ${pulls} pull requests of up to ${BATCH} records`,
  });
  expect(faults).toBe(FAULTS);
  expect(onServer).toHaveLength(RECORDS);
  expect({ missing, doubled, held: onDevice.length, pending }).toEqual({ missing: 0, doubled: 0, held: RECORDS, pending: 0 });
});
