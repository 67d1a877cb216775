/**
 * Offline at the counter: records are saved and counted while the network is gone, the panel
 * says offline, ticks send nothing; when the network is back, the pending push runs by itself.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, openSyncPanel, recordPushes, readPending, waitForPending, readState, waitForState } from './counter';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

describeE2E('working offline', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.clock.install();
    await page.goto('/');
    await signIn(page);
    const panel = await openSyncPanel(page);
    await panel.getByLabel('Sync interval').selectOption({ label: '30 seconds' });
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('offline, three records are saved: 3 pending, state offline, nothing sent; back online they reach PostgreSQL', async () => {
    const pushes = recordPushes(page);
    await context.setOffline(true);
    await waitForState(page, 'Offline');
    const made = [await dispense(page), await dispense(page), await dispense(page)];
    expect(await readPending(page)).toBe('3');
    await page.clock.runFor(95_000); // three ticks, all skipped
    expect(await readState(page)).toBe('Offline');
    expect(await readPending(page)).toBe('3');
    expect(await page.getByTestId('sync-summary').textContent()).not.toMatch(/synced/i);
    expect(pushes.rows).toEqual([]);

    await context.setOffline(false);
    await waitForPending(page, 0);
    const rows = await e2e.sql<{ patient_id: string }>('SELECT patient_id FROM dispenses ORDER BY patient_id');
    expect(rows.map((r) => r.patient_id)).toEqual(made.map((m) => m.patientId).sort());
    expect(await readState(page)).not.toBe('Offline');
  });
});
