/**
 * The timer, with Playwright's clock moving time (runFor fires every timer on the way;
 * fastForward jumps and fires what is due once): at a 30-second interval a record reaches
 * PostgreSQL without a click; a longer interval or a paused switch sends nothing; the settings
 * survive a reload (localStorage `sems_sync_config:<site>`).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, openSyncPanel, readPending, readState, recordPushes, rowSync, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

describeE2E('automatic sync on a timer', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  let pushes: ReturnType<typeof recordPushes>;
  const countRows = async () => Number((await e2e.sql<{ n: string }>('SELECT count(*) AS n FROM dispenses'))[0].n);

  beforeAll(async () => {
    // The fake clock runs hours ahead of the server's: its records would be refused as clock_ahead.
    e2e = await startE2E({ env: { CLOCK_AHEAD_LIMIT_MINUTES: String(7 * 24 * 60) } });
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    // Fake timers before the app loads, so its interval runs on the controllable clock.
    await page.clock.install();
    pushes = recordPushes(page);
    await page.goto('/');
    await signIn(page);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('at a 30-second interval, a new record is synced without a click', async () => {
    const panel = await openSyncPanel(page);
    expect(await panel.getByRole('switch', { name: 'Auto sync' }).isChecked()).toBe(true);
    expect(await panel.getByLabel('Sync interval').inputValue()).toBe('300');
    await panel.getByLabel('Sync interval').selectOption({ label: '30 seconds' });

    const e = await dispense(page);
    expect(await readPending(page)).toBe('1');
    await page.clock.runFor(31_000);
    await waitForPending(page, 0);
    await rowSync(page, e.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await countRows()).toBe(1);
    expect(pushes.ids).toHaveLength(1);
  });

  test('at a 1-hour interval, five minutes pass with nothing sent; the hour sends it', async () => {
    const panel = await openSyncPanel(page);
    await panel.getByLabel('Sync interval').selectOption({ label: '1 hour' });
    const before = pushes.rows.length;
    const e = await dispense(page);
    await page.clock.runFor(5 * 60_000);
    expect(await readPending(page)).toBe('1');
    expect(pushes.rows.length).toBe(before);

    // Jump to the tick (fire it once) rather than run through the hour: the push then proceeds
    // in real time instead of having its own timeout overtaken by the jumping clock.
    await page.clock.fastForward(55 * 60_000 + 5_000);
    await rowSync(page, e.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await countRows()).toBe(2);
  });

  test('after a reload the interval and the switch are as the user left them', async () => {
    const panel = await openSyncPanel(page);
    await panel.getByRole('switch', { name: 'Auto sync' }).uncheck();
    await page.reload();
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    const again = await openSyncPanel(page);
    expect(await again.getByLabel('Sync interval').inputValue()).toBe('3600');
    expect(await again.getByRole('switch', { name: 'Auto sync' }).isChecked()).toBe(false);
    const stored = await page.evaluate((site) => localStorage.getItem(`sems_sync_config:${site}`), USER.siteId); // the site's own settings
    expect(JSON.parse(stored!).state).toMatchObject({ enabled: false, intervalSeconds: 3600 });
  });

  test('paused, no tick sends anything, and "Sync now" still works', async () => {
    const before = pushes.rows.length;
    const e = await dispense(page);
    await page.clock.fastForward(2 * 60 * 60_000);
    expect(await readPending(page)).toBe('1');
    expect(pushes.rows.length).toBe(before);
    expect(await readState(page)).toBe('Paused');

    await syncNow(page);
    await rowSync(page, e.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await countRows()).toBe(3);
  });
});
