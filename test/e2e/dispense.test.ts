/**
 * At the counter, in Chromium against the built app and a real server on PostgreSQL: sign in,
 * dispense with the keyboard alone, see it pending, "Sync now", find the row in PostgreSQL;
 * edit, void, and sign out without losing what has not been sent.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, entry, openSyncPanel, rowSync, syncNow, readPending, waitForPending, signOut } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

describeE2E('dispensing at the counter', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto('/');
  });
  afterAll(async () => {
    await e2e?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  test('a wrong password is refused with a message and the sign-in screen stays', async () => {
    await page.getByLabel('Username').fill(USER.username);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  });

  test('after sign-in, a dispense typed with the keyboard alone is saved, shown pending, and the cursor is back in Patient ID', async () => {
    await signIn(page);
    const patientId = page.getByRole('form', { name: 'New dispense' }).getByLabel('Patient ID');
    // The counter screen opens with the cursor in the first field: no mouse needed.
    await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'patientId');
    for (const text of ['P-KB-1', 'Ada Keyboard', 'PARA500', 'Paracetamol 500 mg tablets', '32']) {
      await page.keyboard.type(text);
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type('tablet'); // the unit select picks by typing
    await page.keyboard.press('Tab');
    await page.keyboard.type('LOT42');
    await page.keyboard.press('Enter');

    await rowSync(page, 'P-KB-1').filter({ hasText: 'Pending' }).waitFor();
    expect(await patientId.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await patientId.inputValue()).toBe('');
    await openSyncPanel(page);
    expect(await readPending(page)).toBe('1');
  });

  test('a record the shared schema refuses shows the reason beside the field and is not saved', async () => {
    const form = page.getByRole('form', { name: 'New dispense' });
    await form.getByLabel('Patient ID').fill('P-BAD-1');
    await form.getByLabel('Medication code').fill('AMOX500');
    await form.getByLabel('Medication name').fill('Amoxicillin 500 mg capsules');
    await form.getByLabel('Quantity').fill('0');
    await form.getByLabel('Unit').selectOption('capsule');
    await form.getByLabel('Expiry date').fill('2020-01-31');
    await form.getByRole('button', { name: 'Save dispense' }).click();

    const quantity = form.getByLabel('Quantity');
    expect(await quantity.getAttribute('aria-invalid')).toBe('true');
    await form.getByText('Quantity must be more than 0').waitFor();
    await form.getByText('Expiry date is before the dispense date').waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'P-BAD-1' }).count()).toBe(0);
    await form.getByRole('button', { name: 'Clear' }).click();
  });

  test('"Sync now" sends the pending record: 0 pending, the row shows synced, and PostgreSQL holds it', async () => {
    await syncNow(page);
    await waitForPending(page, 0);
    await rowSync(page, 'P-KB-1').filter({ hasText: 'Synced' }).waitFor();

    const rows = await e2e.sql('SELECT * FROM dispenses WHERE patient_id = $1', ['P-KB-1']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      site_id: USER.siteId,
      dispensed_by: USER.username,
      medication_code: 'PARA500',
      quantity: 32,
      unit: 'tablet',
      batch_number: 'LOT42',
      status: 'dispensed',
    });
  });

  test('an edit is pending until the next sync, then PostgreSQL has the new version and an audit row', async () => {
    await page.getByRole('button', { name: /^Edit dispense for Ada Keyboard/ }).click();
    const dialog = page.getByRole('dialog', { name: /Edit dispense/ });
    await dialog.getByLabel('Quantity').fill('30');
    await dialog.getByLabel('Reason for the change').fill('Quantity typed wrong');
    await dialog.getByLabel('Quantity').press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    await rowSync(page, 'P-KB-1').filter({ hasText: 'Pending' }).waitFor();
    expect(await readPending(page)).toBe('1');

    await syncNow(page);
    await waitForPending(page, 0);
    const [row] = await e2e.sql<{ quantity: number }>('SELECT quantity FROM dispenses WHERE patient_id = $1', ['P-KB-1']);
    expect(row.quantity).toBe(30);
    const audit = await e2e.sql<{ action: string }>(
      "SELECT action FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = 'P-KB-1' ORDER BY a.id",
    );
    expect(audit.map((a) => a.action)).toEqual(['create', 'update']);
  });

  test('voiding asks for a reason, keeps the record, and the void reaches PostgreSQL', async () => {
    await page.getByRole('button', { name: /^Void dispense for Ada Keyboard/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Void dispense' });
    await dialog.getByRole('button', { name: 'Void dispense' }).click();
    await dialog.getByText('Void reason is required').waitFor();
    await dialog.getByLabel('Reason for voiding').fill('Wrong patient selected');
    await dialog.getByLabel('Reason for voiding').press('Enter');
    await page.getByRole('row').filter({ hasText: 'Voided: Wrong patient selected' }).waitFor();

    await syncNow(page);
    await waitForPending(page, 0);
    const [row] = await e2e.sql('SELECT status, void_reason FROM dispenses WHERE patient_id = $1', ['P-KB-1']);
    expect(row).toEqual({ status: 'voided', void_reason: 'Wrong patient selected' });
  });

  test('signing out keeps a pending record on the device; signing in again sends it at once (auto sync is on)', async () => {
    const waiting = await dispense(page, entry({ patientId: 'P-SIGNOUT' }));
    await signOut(page);
    await page.getByText('1 record is still on this device').waitFor();
    expect(await e2e.sql('SELECT 1 FROM dispenses WHERE patient_id = $1', [waiting.patientId])).toHaveLength(0);

    await signIn(page);
    await rowSync(page, waiting.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await e2e.sql('SELECT 1 FROM dispenses WHERE patient_id = $1', [waiting.patientId])).toHaveLength(1);
  });
});
