/** The site's settings for the counter: read from the real server, kept, and read again only after half a day. */
import '../support/local-storage';
import { duplicateWindowHours, refreshSiteSettings } from '../../client/data/patient-history';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ DUPLICATE_WINDOW_HOURS: '36' });
  await server.addUser('setter', 'site-settings');
});
afterAll(async () => {
  await server?.stop();
});

test('the duplicate window comes from the server and is kept; the status is asked again only after 12 hours', async () => {
  const { token } = await server.login('setter');
  const real = globalThis.fetch;
  let asked = 0;
  globalThis.fetch = (input, init) => {
    if (String(input).endsWith('/api/sync/status')) asked += 1;
    return real(input, init);
  };
  try {
    const t0 = Date.parse('2026-11-30T08:00:00.000Z');
    expect(duplicateWindowHours('site-settings')).toBe(24); // the default before any read
    expect(await refreshSiteSettings(server.url, token, 'site-settings', t0)).toBe(true);
    expect(duplicateWindowHours('site-settings')).toBe(36);
    expect(await refreshSiteSettings(server.url, token, 'site-settings', t0 + 11 * 3_600_000)).toBe(true);
    expect(asked).toBe(1);
    expect(await refreshSiteSettings(server.url, token, 'site-settings', t0 + 13 * 3_600_000)).toBe(true);
    expect(asked).toBe(2);
  } finally {
    globalThis.fetch = real;
  }
});
