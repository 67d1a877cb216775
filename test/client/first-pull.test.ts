/**
 * Which device pulls as it signs in (client/sync/first-pull.ts): one that holds no record, of a
 * site whose records the real server holds; not one that holds records, not one of an empty site,
 * and not when the server cannot be reached.
 */
import '../support/local-storage';
import { createDispenses } from '../../client/data/records';
import { isNewDeviceOfBusySite } from '../../client/sync';
import { makeDispense } from '../support/records';
import { push, pushBody } from '../support/api';
import { startTestServer, type TestServer } from '../support/server';
import { inputFor, newBrowser } from '../support/device';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('busy1', 'site-busy');
  await server.addUser('quiet1', 'site-quiet');
});
afterAll(async () => {
  await server?.stop();
});

test('a device with no record pulls at sign-in only when the server holds records of its site', async () => {
  const busy = (await server.login('busy1')).token;
  const quiet = (await server.login('quiet1')).token;
  expect((await push(server.url, busy, pushBody([makeDispense({ siteId: 'site-busy', dispensedBy: 'busy1' })]))).status).toBe(200);

  const db = await newBrowser().open();
  try {
    expect(await isNewDeviceOfBusySite(db, server.url, busy)).toBe(true);
    expect(await isNewDeviceOfBusySite(db, server.url, quiet)).toBe(false); // the site has no records yet
    expect(await isNewDeviceOfBusySite(db, 'http://127.0.0.1:9', busy)).toBe(false); // no server: the timer will do
    await createDispenses(db, [inputFor(1)], { username: 'busy1', siteId: 'site-busy' });
    expect(await isNewDeviceOfBusySite(db, server.url, busy)).toBe(false); // not new: it holds a record
  } finally {
    await db.remove();
  }
});
