/**
 * What the counter lets in, in Chromium against the built app and a real server: a dispense
 * time in the future and absurd values are refused at their fields in a pharmacist's words, a
 * date far back asks first, pasted text is never cut, a confirmed duplicate is kept in fields of
 * its own whatever the notes hold, and an edit carries a reason into the audit trail.
 */
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { dispense, entry, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

/** `YYYY-MM-DDTHH:mm` in the page's local time, `ms` from now. */
const localInput = (page: Page, ms: number) =>
  page.evaluate((offset) => {
    const d = new Date(Date.now() + offset);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }, ms);

describeE2E('at the counter, what the form lets in', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  let form: Locator;

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto('/');
    await signIn(page);
    form = page.getByRole('form', { name: 'New dispense' });
  });
  afterAll(async () => {
    await e2e?.close();
  });
  beforeEach(async () => {
    await form.getByRole('button', { name: 'Clear' }).click();
  });

  async function fill(e: Partial<Record<'Patient ID' | 'Medication code' | 'Medication name' | 'Quantity' | 'Notes', string>>, unit = 'capsule') {
    const values = { 'Patient ID': 'P-RULES', 'Medication code': 'AMOX500', 'Medication name': 'Amoxicillin 500 mg capsules', Quantity: '21', ...e };
    for (const [label, value] of Object.entries(values)) await form.getByLabel(label).fill(value);
    await form.getByLabel('Unit').selectOption(unit);
  }
  const fieldError = (label: string) =>
    form
      .locator('.field')
      .filter({ has: page.getByLabel(label) })
      .locator('.field-error');
  const saveButton = () => form.getByRole('button', { name: 'Save dispense' });

  test('a dispense time 30 minutes or 2 days ahead is refused at the field in words, and nothing is saved', async () => {
    for (const ahead of [30 * 60_000, 2 * 86_400_000]) {
      await fill({ 'Patient ID': 'P-FUTURE' });
      await form.getByLabel('Dispensed at').fill(await localInput(page, ahead));
      await saveButton().click();
      await fieldError('Dispensed at')
        .filter({ hasText: /^Dispensed at is later than now/ })
        .waitFor();
      expect(await fieldError('Dispensed at').textContent()).not.toMatch(/clock|dispensedAt|ISO/);
    }
    expect(await page.getByRole('row').filter({ hasText: 'P-FUTURE' }).count()).toBe(0);
  });

  test('an empty "Dispensed at" asks for the date and time in words, not for an ISO format', async () => {
    await fill({ 'Patient ID': 'P-EMPTY-AT' });
    await form.getByLabel('Dispensed at').fill('');
    await saveButton().click();
    await fieldError('Dispensed at').filter({ hasText: 'Enter the date and time of the dispense' }).waitFor();
  });

  test('absurd values are refused at their fields: the year 1990, an expiry of 9999-12-31, 0.0001 tablet, 1.5 capsules', async () => {
    await fill({ 'Patient ID': 'P-ABSURD' });
    await form.getByLabel('Dispensed at').fill('1990-01-01T10:00');
    await saveButton().click();
    await fieldError('Dispensed at')
      .filter({ hasText: /year 2000 or later/ })
      .waitFor();

    await form.getByLabel('Dispensed at').fill(await localInput(page, -60_000));
    await form.getByLabel('Expiry date').fill('9999-12-31');
    await saveButton().click();
    await fieldError('Expiry date')
      .filter({ hasText: /more than 10 years after/ })
      .waitFor();

    await form.getByLabel('Expiry date').fill('');
    await fill({ 'Patient ID': 'P-ABSURD', Quantity: '0.0001' }, 'tablet');
    await saveButton().click();
    await fieldError('Quantity')
      .filter({ hasText: /Tablets go in quarters/ })
      .waitFor();

    await fill({ 'Patient ID': 'P-ABSURD', Quantity: '1.5' }, 'capsule');
    await saveButton().click();
    await fieldError('Quantity')
      .filter({ hasText: /whole capsules/ })
      .waitFor();
    expect(await page.getByRole('row').filter({ hasText: 'P-ABSURD' }).count()).toBe(0);

    // Half a tablet and 2.125 ml are what a pharmacist hands out.
    await dispense(page, entry({ patientId: 'P-HALF', quantity: '0.5', unit: 'tablet' }));
    await dispense(page, entry({ patientId: 'P-SYRUP', quantity: '2.125', unit: 'ml' }));
  });

  test('a dispense dated 10 days back asks to confirm; "Go back" saves nothing, "Save with this date" saves it, and the list shows the year when it is not this one', async () => {
    await fill({ 'Patient ID': 'P-LATE' });
    await form.getByLabel('Dispensed at').fill(await localInput(page, -10 * 86_400_000));
    await saveButton().click();
    const ask = page.getByRole('dialog', { name: 'Dispensed that long ago?' });
    await ask.getByText(/10 days ago/).waitFor();
    await ask.getByRole('button', { name: 'Go back' }).click();
    await ask.waitFor({ state: 'detached' });
    expect(await page.getByRole('row').filter({ hasText: 'P-LATE' }).count()).toBe(0);
    await saveButton().click();
    await ask.getByRole('button', { name: 'Save with this date' }).click();
    await page.getByRole('row').filter({ hasText: 'P-LATE' }).waitFor();

    const lastYear = await page.evaluate(() => new Date().getFullYear() - 1);
    await fill({ 'Patient ID': 'P-LAST-YEAR' });
    await form.getByLabel('Dispensed at').fill(`${lastYear}-03-04T10:00`);
    await saveButton().click();
    await ask.getByRole('button', { name: 'Save with this date' }).click();
    await page
      .getByRole('row')
      .filter({ hasText: 'P-LAST-YEAR' })
      .filter({ hasText: String(lastYear) })
      .waitFor();
  });

  test('5,000 pasted characters are kept in the field and said to be too long; nothing cut is saved', async () => {
    const long = 'x'.repeat(5000);
    await fill({ 'Patient ID': 'P-PASTE', Notes: long });
    expect((await form.getByLabel('Notes').inputValue()).length).toBe(5000);
    await fieldError('Notes')
      .filter({ hasText: /5,000 characters long: at most 1,000/ })
      .waitFor();
    await form.getByLabel('Patient ID').fill('P'.repeat(100));
    expect((await form.getByLabel('Patient ID').inputValue()).length).toBe(100);
    await fieldError('Patient ID')
      .filter({ hasText: /at most 64/ })
      .waitFor();
    const before = await page.getByRole('row').count();
    await saveButton().click();
    await fieldError('Patient ID').waitFor();
    expect(await page.getByRole('row').count()).toBe(before);
  });

  test('"Dispense anyway" on a record with 1,000 characters of notes saves it, and keeps who confirmed and when in fields of their own', async () => {
    const notes = 'n'.repeat(1000);
    await dispense(page, entry({ patientId: 'P-DUP-LONG' }));
    await fill({ 'Patient ID': 'P-DUP-LONG', Notes: notes });
    await saveButton().click();
    const warning = page.getByRole('dialog', { name: 'Possible duplicate dispense' });
    await warning.getByRole('button', { name: 'Dispense anyway' }).click();
    await warning.waitFor({ state: 'detached' });
    await page
      .getByRole('status')
      .filter({ hasText: /Saved: 21 capsule/ })
      .waitFor();
    await syncNow(page);
    await waitForPending(page, 0);
    const rows = await e2e.sql<{ notes: string | null; duplicate_confirmed_by: string | null; duplicate_confirmed_at: Date | null }>(
      'SELECT notes, duplicate_confirmed_by, duplicate_confirmed_at FROM dispenses WHERE patient_id = $1 ORDER BY duplicate_confirmed_by NULLS FIRST',
      ['P-DUP-LONG'],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ duplicate_confirmed_by: null, duplicate_confirmed_at: null });
    expect(rows[1]).toMatchObject({ notes, duplicate_confirmed_by: 'pharm1', duplicate_confirmed_at: expect.any(Date) });
  });

  test('an edit needs a reason, which reaches the record and its audit trail', async () => {
    const made = await dispense(page, entry({ patientId: 'P-EDIT-WHY', patientName: 'Edith Why' }));
    await syncNow(page);
    await waitForPending(page, 0);
    await page.getByRole('button', { name: `Edit dispense for ${made.patientName} (${made.patientId})` }).click();
    const dialog = page.getByRole('dialog', { name: /Edit dispense/ });
    await dialog.getByLabel('Quantity').fill('28');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.locator('.field-error').filter({ hasText: 'Reason for the change is required' }).waitFor();
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('reason');
    await dialog.getByLabel('Reason for the change').fill('Four weeks, not three');
    await dialog.getByLabel('Reason for the change').press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await syncNow(page);
    await waitForPending(page, 0);
    const [row] = await e2e.sql<{ quantity: number; edit_reason: string }>('SELECT quantity, edit_reason FROM dispenses WHERE patient_id = $1', [
      'P-EDIT-WHY',
    ]);
    expect(row).toEqual({ quantity: 28, edit_reason: 'Four weeks, not three' });
    const audit = await e2e.sql<{ action: string; reason: string | null }>(
      "SELECT a.action, a.after->>'editReason' AS reason FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = $1 ORDER BY a.id",
      ['P-EDIT-WHY'],
    );
    expect(audit).toEqual([
      { action: 'create', reason: null },
      { action: 'update', reason: 'Four weeks, not three' },
    ]);
  });

  test('an untouched "Dispensed at" moves on with the clock; a typed one stays', async () => {
    const timed = await e2e.newContext();
    try {
      await timed.clock.install();
      const p = await timed.newPage();
      await p.goto('/');
      await signIn(p);
      // The device reports re-measure its clock against the server's, and would correct a jump of
      // the fake clock back to the server's time: this test is about the field, so they are held.
      await timed.route('**/api/sync/devices/report', (route) => route.abort());
      const at = p.getByRole('form', { name: 'New dispense' }).getByLabel('Dispensed at');
      const first = await at.inputValue();
      await timed.clock.fastForward('03:00');
      await p.waitForFunction((before) => (document.querySelector('[name="dispensedAt"]') as HTMLInputElement).value !== before, first);
      expect(Date.parse(await at.inputValue()) - Date.parse(first)).toBeGreaterThanOrEqual(2 * 60_000);
      await at.fill('2026-01-02T03:04');
      await timed.clock.fastForward('03:00');
      await p.getByRole('form', { name: 'New dispense' }).getByLabel('Patient ID').fill('P-STAYS');
      expect(await at.inputValue()).toBe('2026-01-02T03:04');
    } finally {
      await timed.close();
    }
  });
});
