/**
 * When the server says no: a record it rejects is shown with the server's reason and goes again
 * once edited; a session it refuses (401) keeps the records pending and asks for a new sign-in.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, openSyncPanel, rowSync, syncNow, readPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

describeE2E('when the server refuses', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto('/');
    await signIn(page);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('a rejected record shows the server reason in the list and the panel, and is sent again once edited', async () => {
    const e = await dispense(page);
    // The pharmacist moved to another site: this device's record is no longer theirs to write.
    await e2e.sql('UPDATE users SET site_id = $1 WHERE username = $2', ['SITE-OTHER', USER.username]);
    await syncNow(page);
    await rowSync(page, e.patientId).filter({ hasText: 'Rejected' }).waitFor();
    await page.getByRole('row').filter({ hasText: e.patientId }).getByText('Records of site SITE-OTHER only').waitFor();
    await (await openSyncPanel(page)).getByText(/Rejected by the server \(1\)/).waitFor();
    expect(await readPending(page)).toBe('0');
    expect(await page.getByTestId('sync-summary').textContent()).toContain('1 rejected');
    expect(await page.getByTestId('sync-summary').textContent()).not.toMatch(/synced/i);
    expect(await e2e.sql('SELECT 1 FROM dispenses')).toHaveLength(0);

    await e2e.sql('UPDATE users SET site_id = $1 WHERE username = $2', [USER.siteId, USER.username]);
    await page.getByRole('button', { name: `Edit dispense for ${e.patientName} (${e.patientId})` }).click();
    const dialog = page.getByRole('dialog', { name: /Edit dispense/ });
    await dialog.getByLabel('Notes').fill('Checked with the prescriber');
    await dialog.getByLabel('Reason for the change').fill('Checked with the prescriber');
    await dialog.getByLabel('Notes').press('Enter');
    await rowSync(page, e.patientId).filter({ hasText: 'Pending' }).waitFor();
    await syncNow(page);
    await rowSync(page, e.patientId).filter({ hasText: 'Synced' }).waitFor();
    const rows = await e2e.sql('SELECT notes FROM dispenses WHERE patient_id = $1', [e.patientId]);
    expect(rows).toEqual([{ notes: 'Checked with the prescriber' }]);
  });

  test('a refused session keeps the record pending and asks for a new sign-in, after which it is sent', async () => {
    await page.evaluate(() => {
      const stored = JSON.parse(localStorage.getItem('sems_session')!);
      stored.state.token = 'not-a-token-this-server-signed';
      localStorage.setItem('sems_session', JSON.stringify(stored));
    });
    await page.reload();
    const e = await dispense(page);
    await syncNow(page);
    await page.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor();
    await rowSync(page, e.patientId).filter({ hasText: 'Pending' }).waitFor();
    expect(await readPending(page)).toBe('1');

    const panel = await openSyncPanel(page);
    await panel.getByRole('alert').filter({ hasText: 'no longer accepts this session' }).waitFor();
    await panel.getByRole('button', { name: 'Sign in again' }).click();
    await page.getByText('1 record is still on this device').waitFor();
    await signIn(page);
    await syncNow(page);
    await rowSync(page, e.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await e2e.sql('SELECT 1 FROM dispenses WHERE patient_id = $1', [e.patientId])).toHaveLength(1);
  });
});
