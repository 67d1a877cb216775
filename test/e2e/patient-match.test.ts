/**
 * At the counter, in Chromium against a real server: after P-1001 got AMOX500, the same patient
 * typed `p-1001 ` shows the patient's history (this device's record and the server's older one,
 * beyond what the device keeps) and saving `amox500` for them asks to confirm a possible duplicate.
 */
import type { Page } from 'playwright-core';
import { makeDispense } from '../support/records';
import { push, pushBody } from '../support/api';
import { dispense, entry } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

describeE2E('a patient typed in another case or with spaces at the counter', () => {
  let e2e: E2E;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // The device keeps the site's last week: the server's older history is read on demand.
    e2e = await startE2E({ env: { PULL_WINDOW_DAYS: '7' } });
    const { token } = await e2e.server.login(USER.username, USER.password);
    const old = {
      ...makeDispense({ siteId: USER.siteId, dispensedBy: USER.username, patientId: 'P-1001', medicationCode: 'AMOX500' }),
      medicationName: 'Amoxicillin 250 mg capsules',
      dispensedAt: new Date(Date.now() - 30 * 86_400_000).toISOString(),
    };
    expect((await push(e2e.server.url, token, pushBody([{ ...old, updatedAt: old.dispensedAt }]))).body).toEqual({ conflicts: [], rejected: [] });
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto('/');
    await signIn(page);
  });
  afterAll(async () => {
    await e2e?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  test("after P-1001 got AMOX500, 'p-1001 ' shows both records of the history and 'amox500' asks to confirm a possible duplicate", async () => {
    await dispense(page, entry({ patientId: 'P-1001', patientName: 'Noor Haddad', medicationCode: 'AMOX500' }));
    const form = page.getByRole('form', { name: 'New dispense' });
    await form.getByLabel('Patient ID').fill('p-1001 ');
    const history = page.getByRole('region', { name: 'Recent dispenses for p-1001' });
    // The server's older record: only the server holds it, found by its id in another case.
    await history.getByText('Amoxicillin 250 mg capsules').waitFor();
    await history.getByText('Amoxicillin 500 mg capsules').waitFor();
    expect(await history.getByRole('listitem').count()).toBe(2);
    expect(await history.textContent()).not.toContain('None');

    await form.getByLabel('Medication code').fill('amox500');
    await form.getByLabel('Medication name').fill('Amoxicillin 500 mg capsules');
    await form.getByLabel('Quantity').fill('21');
    await form.getByLabel('Unit').selectOption('capsule');
    await form.getByRole('button', { name: 'Save dispense' }).click();
    const warning = page.getByRole('dialog', { name: 'Possible duplicate dispense' });
    await warning.getByText('AMOX500').first().waitFor();
    await warning.getByRole('button', { name: 'Go back' }).click();
    await warning.waitFor({ state: 'detached' });
    expect(await page.getByRole('row').filter({ hasText: 'P-1001' }).count()).toBe(1); // nothing saved
  });
});
