/**
 * Storage that stays: the sync panel shows whether the
 * browser granted persistent storage and how much the app uses, and warns while unsent records sit
 * in storage the browser may evict. Chromium grants persistence here only by permission (CDP).
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, entry, openSyncPanel, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

const SHOTS = process.env.E2E_SCREENSHOTS;

describeE2E('storage on the device, in the sync panel', () => {
  let e2e: E2E;
  let context: BrowserContext;

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  const facts = async (page: Page) => {
    const panel = await openSyncPanel(page);
    return {
      persisted: await panel.getByTestId('storage-persisted').textContent(),
      usage: await panel.getByTestId('storage-usage').textContent(),
      warnings: await panel.getByRole('group', { name: 'Storage on this device' }).getByRole('alert').allTextContents(),
    };
  };

  test('not persistent: the panel says so, shows the usage, and warns while records are unsent', async () => {
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page);
    await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).uncheck();
    expect(await page.evaluate(() => navigator.storage.persisted())).toBe(false);
    await dispense(page, entry({ patientId: 'STORE-1' }));
    await (await openSyncPanel(page)).getByRole('group', { name: 'Storage on this device' }).getByRole('alert').first().waitFor();
    const { usage, quota } = await page.evaluate(() => navigator.storage.estimate());
    const shown = await facts(page);
    expect(shown.persisted).toBe('not granted: the browser may clear the records if space runs low');
    expect(shown.usage).toMatch(/^\d+(\.\d)? (bytes|KB|MB|GB) of \d+(\.\d)? (MB|GB|TB) available to this app$/);
    expect(usage).toBeGreaterThan(0);
    // The browser's own figures, as the panel rounds them.
    const GB = 1024 ** 3;
    expect(shown.usage).toContain(`of ${(quota! / GB).toFixed(quota! < 10 * GB ? 1 : 0)} GB`);
    expect(shown.warnings).toEqual([expect.stringMatching(/^1 record is not sent yet and this browser may clear its storage/)]);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'storage.png') });

    // Sent: nothing unsent is at risk, so no warning.
    await syncNow(page);
    await waitForPending(page, 0);
    await (await openSyncPanel(page)).getByRole('group', { name: 'Storage on this device' }).getByRole('alert').waitFor({ state: 'detached' });
    await page.close();
  });

  test('persistent storage granted: the panel says the browser keeps the records, and does not warn', async () => {
    const page = await context.newPage();
    const { targetInfo } = await (await context.newCDPSession(page)).send('Target.getTargetInfo');
    const cdp = await e2e.browser.newBrowserCDPSession();
    await cdp.send('Browser.grantPermissions', {
      origin: e2e.server.url,
      browserContextId: targetInfo.browserContextId,
      permissions: ['durableStorage'],
    });
    await page.goto('/');
    await page.getByRole('heading', { name: 'New dispense' }).waitFor(); // the session of the test before
    await dispense(page, entry({ patientId: 'STORE-2' }));
    await (
      await openSyncPanel(page)
    )
      .getByTestId('storage-persisted')
      .filter({ hasText: /^granted/ })
      .waitFor();
    expect(await page.evaluate(() => navigator.storage.persisted())).toBe(true);
    const shown = await facts(page);
    expect(shown.persisted).toBe('granted: the browser keeps the records');
    expect(shown.warnings).toEqual([]);
  });
});
