/**
 * A device that holds thousands of records: the app's first render shows one page of the list
 * (newest first) and the exact pending count, and one "Sync now" sends them all in batches.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { autoSyncOffBeforeStart, recordPushes, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';
import { seedRecords } from './seed';

const COUNT = 2500;

describeE2E('many records on the device', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await seedRecords(page, COUNT, USER);
    await autoSyncOffBeforeStart(page); // the records stay pending until the test's "Sync now"
    await page.goto('/');
    await signIn(page);
  }, 120_000);
  afterAll(async () => {
    await e2e?.close();
  });

  test(`with ${COUNT} local records the first render shows the newest page and the exact pending count`, async () => {
    const rows = page.getByRole('region', { name: 'Recent dispenses' }).getByRole('row');
    await rows.filter({ hasText: `SEED-${String(COUNT - 1).padStart(6, '0')}` }).waitFor();
    expect(await rows.count()).toBe(1 + 50); // header + one page
    expect(await rows.nth(1).textContent()).toContain(`SEED-${String(COUNT - 1).padStart(6, '0')}`);
    await waitForPending(page, COUNT);

    await page.getByRole('button', { name: 'Show older dispenses' }).click();
    await rows.nth(100).waitFor();
    expect(await rows.count()).toBe(1 + 100);
    expect(pageErrors).toEqual([]);
  });

  test('one "Sync now" sends every record once, in batches, and PostgreSQL holds them all', async () => {
    const pushes = recordPushes(page);
    await syncNow(page);
    await waitForPending(page, 0, 120_000);
    const [{ n }] = await e2e.sql<{ n: string }>('SELECT count(*) AS n FROM dispenses');
    expect(Number(n)).toBe(COUNT);
    expect(new Set(pushes.ids).size).toBe(COUNT);
    expect(pushes.ids).toHaveLength(COUNT);
    expect(Math.max(...pushes.rows)).toBeLessThanOrEqual(1000);
    expect(pushes.rows.length).toBeGreaterThan(1);
  }, 180_000);
});
