/**
 * A new device: a fresh browser signed in as a user of a site that already holds 10,000 recent
 * records pulls them as it signs in (no "Sync now", no wait for the timer), in batches, with a
 * progress bar that reaches the end, and then works like any other device: nothing pending, the
 * newest records listed, a new record sent once.
 */
import { makeDispense } from '../support/records';
import { login, push, pushBody } from '../support/api';
import { dispense, entry, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

const RECORDS = 10_000;

describeE2E('a new device of a site', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E();
    // The site's records, made on its other devices over the last days.
    const { token } = await login(e2e.server.url, USER.username, USER.password);
    const now = Date.now();
    for (let from = 0; from < RECORDS; from += 1000) {
      const docs = Array.from({ length: 1000 }, (_, k) => {
        const at = new Date(now - (from + k) * 60_000).toISOString();
        return makeDispense({ siteId: USER.siteId, dispensedBy: USER.username, dispensedAt: at, updatedAt: at }, from + k);
      });
      const res = await push(e2e.server.url, token, pushBody(docs));
      if (res.status !== 200 || res.body.rejected.length > 0) throw new Error(`seeding: ${res.status} ${res.text.slice(0, 300)}`);
    }
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test(`a fresh browser pulls the site's ${RECORDS.toLocaleString()} records as it signs in, with a progress bar that reaches the end, then works as any device`, async () => {
    const context = await e2e.newContext();
    context.setDefaultTimeout(120_000);
    const page = await context.newPage();
    await page.goto('/');

    // The bar's values while the records come, read in the page as they change (from before the sign-in).
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('.receiving progress') as HTMLProgressElement | null;
        if (bar && seen[seen.length - 1] !== bar.value) seen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await signIn(page); // and nothing else: the pull starts by itself
    await page
      .getByRole('status')
      .filter({ hasText: `All ${RECORDS.toLocaleString('en-US')} records of the site` })
      .waitFor();
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.length).toBeGreaterThanOrEqual(3); // in batches
    expect(seen[seen.length - 1]).toBe(RECORDS);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // never backwards
    expect(await page.getByRole('progressbar').getAttribute('max')).toBe(String(RECORDS));

    await waitForPending(page, 0); // pulled records are not pending
    await page.getByRole('row').filter({ hasText: 'P100000' }).first().waitFor(); // the newest record is listed

    const made = await dispense(page, entry({ patientId: 'NEWDEV-1' }));
    await syncNow(page);
    await waitForPending(page, 0);
    const [{ n }] = await e2e.sql<{ n: string }>('SELECT count(*) AS n FROM dispenses');
    expect(Number(n)).toBe(RECORDS + 1);
    expect(await e2e.sql('SELECT 1 FROM dispenses WHERE patient_id = $1', [made.patientId])).toHaveLength(1);
  });

  test('a fresh browser whose auto sync is off pulls nothing at sign-in: paused means no run, until "Sync now"', async () => {
    const context = await e2e.newContext();
    context.setDefaultTimeout(120_000);
    // The site's sync settings as the panel's switch keeps them, auto sync off, before the app loads.
    await context.addInitScript((key) => {
      localStorage.setItem(key, JSON.stringify({ state: { enabled: false, intervalSeconds: 300 }, version: 1 }));
    }, `sems_sync_config:${USER.siteId}`);
    const page = await context.newPage();
    let pulls = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/sync/dispenses/pull')) pulls += 1;
    });
    await page.goto('/');
    await signIn(page);
    await page.getByText('No dispenses on this device yet.').waitFor();
    await page.waitForTimeout(3000); // time for a run, had one started
    expect(pulls).toBe(0);
    await page.getByText('No dispenses on this device yet.').waitFor();

    await syncNow(page);
    await page.getByRole('row').filter({ hasText: 'P100000' }).first().waitFor();
    expect(pulls).toBeGreaterThan(0);
  });
});
