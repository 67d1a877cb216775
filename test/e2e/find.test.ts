/**
 * The Find and Totals views in Chromium against a real server: with no network, a lower-case
 * patient id finds the record on this device, voided ones can be hidden, and a result row's Void
 * is the recent list's; the day's totals count this device's records per medication, voided apart,
 * and a site admin also reads the server's. Neither view scrolls sideways at 1280, 768 or 390 px,
 * and axe-core finds nothing to fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { seedUsers } from '../support/users';
import { dispense, entry, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

const ADMIN = { username: 'boss1', password: 'boss-pass-1', siteId: USER.siteId };
const AXE = fs.readFileSync(path.join(__dirname, '../../node_modules/axe-core/axe.min.js'), 'utf8');

const view = (page: Page, name: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name, exact: true });
const results = (page: Page) => page.getByRole('region', { name: 'Records found' });

/** axe-core's violations on the page as it is (evaluated: the app's CSP refuses inline scripts). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: () => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/**
 * At each width: the page is no wider than the window, apart from the header (the app's, outside
 * these views: measured apart), and the view's own elements stay inside it. A screenshot of each.
 */
async function checkWidths(page: Page, name: string): Promise<void> {
  for (const width of [1280, 768, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const m = await page.evaluate(() => {
      const vw = document.documentElement.clientWidth;
      const header = document.querySelector('.app-header')!;
      const mine = [...document.querySelectorAll('nav.view-bar, main:not([hidden])')];
      return {
        vw,
        page: document.documentElement.scrollWidth,
        header: Math.max(vw, Math.ceil(header.getBoundingClientRect().left + header.scrollWidth)),
        views: mine.map((el) => ({
          cls: el.className,
          right: Math.ceil(el.getBoundingClientRect().right),
          overflow: el.scrollWidth - el.clientWidth,
        })),
      };
    });
    expect({ width, page: m.page }).toEqual({ width, page: Math.min(m.page, m.header) });
    for (const v of m.views)
      expect({ width, view: v.cls, right: Math.min(v.right, m.vw), overflow: Math.min(v.overflow, 0) }).toEqual({
        width,
        view: v.cls,
        right: v.right,
        overflow: v.overflow,
      });
    await page.screenshot({ path: `/tmp/e2e-${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

describeE2E('finding a record and the totals', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  const device = async (user: { username: string; password: string; siteId: string }) => {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto('/');
    await signIn(page, user);
    return page;
  };
  let counter: Page;

  beforeAll(async () => {
    e2e = await startE2E();
    await seedUsers(e2e.server.db, [{ username: ADMIN.username, siteId: ADMIN.siteId, role: 'admin', password: ADMIN.password }]);
    counter = await device(USER);
    await dispense(counter, entry({ patientId: 'P-2001', patientName: 'Noor Haddad', medicationCode: 'AMOX500', quantity: '21' }));
    await dispense(
      counter,
      entry({
        patientId: 'P-2001',
        patientName: 'Noor Haddad',
        medicationCode: 'MET500',
        medicationName: 'Metformin 500 mg tablets',
        unit: 'tablet',
        quantity: '56',
      }),
    );
    await dispense(counter, entry({ patientId: 'P-3001', patientName: 'Tomas Lind', medicationCode: 'amox500', quantity: '14' }));
    await syncNow(counter);
    await waitForPending(counter, 0);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  test('with no network, a lower-case patient id finds the records on this device; a result is voided from its row and hidden with "Hide voided"', async () => {
    await counter.context().setOffline(true);
    await view(counter, 'Find').click();
    const search = counter.getByRole('search', { name: 'Find a record' });
    await search.getByLabel('Patient ID or name').fill('p-2001');
    await counter
      .getByTestId('find-count')
      .filter({ hasText: /^2 records match$/ })
      .waitFor();
    expect(await results(counter).getByRole('row').filter({ hasText: 'P-2001' }).count()).toBe(2);
    expect(await results(counter).getByRole('row').filter({ hasText: 'P-3001' }).count()).toBe(0);

    // The row's Void is the recent list's: the dialog, then the row says voided.
    await results(counter)
      .getByRole('row')
      .filter({ hasText: 'Metformin' })
      .getByRole('button', { name: /^Void dispense for Noor Haddad/ })
      .click();
    const dialog = counter.getByRole('dialog', { name: 'Void dispense' });
    await dialog.getByLabel('Reason for voiding').fill('Wrong patient selected');
    await dialog.getByLabel('Reason for voiding').press('Enter');
    await results(counter).getByRole('row').filter({ hasText: 'Voided: Wrong patient selected' }).waitFor();

    await search.getByLabel('Hide voided').check();
    await counter
      .getByTestId('find-count')
      .filter({ hasText: /^1 record matches$/ })
      .waitFor();
    expect(await results(counter).getByRole('row').filter({ hasText: 'Metformin' }).count()).toBe(0);
    // A name in another case and a medication code, together.
    await search.getByLabel('Hide voided').uncheck();
    await search.getByLabel('Patient ID or name').fill('LIND');
    await search.getByLabel('Medication code or name').fill('Amox500');
    await counter
      .getByTestId('find-count')
      .filter({ hasText: /^1 record matches$/ })
      .waitFor();
    await results(counter).getByRole('row').filter({ hasText: 'P-3001' }).waitFor();

    expect(await axeViolations(counter)).toEqual([]);
    await checkWidths(counter, 'find');
    await counter.context().setOffline(false);
  });

  test("the day's totals on the counter are this device's, per medication (codes in any case together), voided apart; a site admin also reads the server's", async () => {
    await view(counter, 'Totals').click();
    const mine = counter.getByRole('region', { name: 'On this device' });
    const amox = mine.getByRole('row').filter({ hasText: 'Amoxicillin' });
    await amox.waitFor();
    expect(await amox.getByRole('cell').allTextContents()).toEqual(['2', '35 capsule', '0']);
    expect(await mine.getByRole('row').filter({ hasText: 'Metformin' }).getByRole('cell').allTextContents()).toEqual(['0', '0 tablet', '1']);
    expect(await mine.textContent()).toContain("This device's records");
    expect(await counter.getByRole('region', { name: 'At the site (server)' }).count()).toBe(0); // a pharmacist
    expect(await axeViolations(counter)).toEqual([]);
    await checkWidths(counter, 'totals');
    // An end before the start is said at the field, and nothing is counted until it is corrected.
    const period = counter.getByRole('form', { name: 'Totals of a day or a shift' });
    await period.getByLabel('To', { exact: true }).fill('2020-01-01T08:00');
    await period.getByRole('alert').filter({ hasText: 'The end of the period must be after its start.' }).waitFor();
    await mine.getByText('Nothing is counted until the period above is corrected.').waitFor();
    await period.getByRole('button', { name: 'Today so far' }).click();
    await amox.waitFor();

    // The void made offline is sent; the admin, on a device of its own, reads the server's numbers.
    await syncNow(counter);
    await waitForPending(counter, 0);
    const admin = await device(ADMIN);
    await view(admin, 'Totals').click();
    const site = admin.getByRole('region', { name: 'At the site (server)' });
    const siteAmox = site.getByRole('row').filter({ hasText: 'Amoxicillin' });
    await siteAmox.waitFor();
    expect(await siteAmox.getByRole('cell').allTextContents()).toEqual(['2', '35 capsule', '0']);
    expect(await site.getByRole('row').filter({ hasText: 'Metformin' }).getByRole('cell').allTextContents()).toEqual(['0', '0 tablet', '1']);
    expect(await site.getByRole('row').filter({ hasText: 'All medications' }).getByRole('cell').allTextContents()).toEqual(['2', '', '1']);
    expect(await axeViolations(admin)).toEqual([]);
    await checkWidths(admin, 'totals-admin');
  });
});
