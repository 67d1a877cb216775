/**
 * The app for people on a keyboard or with a screen reader, and at a shared counter: axe-core finds
 * nothing on the sign-in screen, the counter, the open sync panel and the dialogs; a dispense is
 * filled and saved with the keyboard alone; closing a dialog or the sync panel gives focus back to
 * what opened it; and the sign-in form keeps no trace of who signed out.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { entry, openSyncPanel, signOut } from './counter';
import { axeViolations } from './axe';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

/** The element that has focus, in words: its accessible role's tag and its label, id or text. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'the page';
    return `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? (el.id || el.textContent?.trim())}`;
  });

describeE2E('the app by keyboard, for screen readers, and at a shared counter', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  const form = () => page.getByRole('form', { name: 'New dispense' });

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext({ bypassCSP: true }); // for axe-core's injected script
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto('/');
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test("axe-core finds nothing on the sign-in screen; after a sign-out the form shows nobody's username", async () => {
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await signIn(page);
    await signOut(page);
    expect(await page.getByLabel('Username').inputValue()).toBe('');
    expect(await focused(page)).toBe('input username');
  });

  test('with the keyboard alone a dispense is filled and saved; Escape and "Go back" in the duplicate dialog give focus back to where Enter was pressed', async () => {
    await signIn(page);
    await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'patientId');
    const e = entry();
    const typeDispense = async () => {
      for (const text of [e.patientId, e.patientName!, e.medicationCode, e.medicationName, e.quantity]) {
        await page.keyboard.type(text);
        await page.keyboard.press('Tab');
      }
      await page.keyboard.type(e.unit); // the unit select picks by typing
      await page.keyboard.press('Tab');
      await page.keyboard.type('LOT42');
    };
    await typeDispense();
    await page.keyboard.press('Enter');
    await page.getByRole('row').filter({ hasText: e.patientId }).waitFor();
    expect(await focused(page)).toBe('input new-patientId');

    // The same again: a possible duplicate. Escape goes back to the field Enter was pressed in.
    const duplicate = page.getByRole('dialog', { name: 'Possible duplicate dispense' });
    await typeDispense();
    await page.keyboard.press('Enter');
    await duplicate.waitFor();
    expect(await focused(page)).toBe('button Go back');
    await page.keyboard.press('Escape');
    await duplicate.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('input new-batchNumber');

    // From the Save button: "Go back" returns to it; "Dispense anyway" saves and starts a new dispense.
    await form().getByRole('button', { name: 'Save dispense' }).focus();
    await page.keyboard.press('Enter');
    await duplicate.waitFor();
    await page.keyboard.press('Enter'); // on "Go back"
    await duplicate.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe('button Save dispense');
    await page.keyboard.press('Enter');
    await duplicate.waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button Dispense anyway');
    await page.keyboard.press('Enter');
    await page.getByRole('row').filter({ hasText: e.patientId }).nth(1).waitFor();
    expect(await focused(page)).toBe('input new-patientId');
  });

  test('Escape from inside the sync panel closes it and gives focus back to its toggle', async () => {
    const toggle = page.getByRole('button', { name: /^Sync status/ });
    await toggle.focus();
    await page.keyboard.press('Enter');
    const panel = page.getByRole('region', { name: 'Sync' });
    await panel.waitFor();
    await page.keyboard.press('Tab');
    expect(await panel.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    expect(await focused(page)).toMatch(/^button Sync status/);
  });

  test('axe-core finds nothing on the counter, with the sync panel open, or with the duplicate or the edit dialog open', async () => {
    const e = entry({ patientId: 'P-AXE-1' });
    await page.getByRole('row').first().waitFor();
    expect(await page.locator('h1').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);

    await openSyncPanel(page);
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');

    const fill = async () => {
      await form().getByLabel('Patient ID').fill(e.patientId);
      await form().getByLabel('Medication code').fill(e.medicationCode);
      await form().getByLabel('Medication name').fill(e.medicationName);
      await form().getByLabel('Quantity').fill(e.quantity);
      await form().getByLabel('Unit').selectOption(e.unit);
      await form().getByLabel('Medication name').press('Enter');
    };
    await fill();
    await page.getByRole('row').filter({ hasText: e.patientId }).waitFor();
    await fill();
    const duplicate = page.getByRole('dialog', { name: 'Possible duplicate dispense' });
    await duplicate.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await duplicate.getByRole('button', { name: 'Go back' }).click();
    await form().getByRole('button', { name: 'Clear' }).click();

    const edit = page.getByRole('button', { name: `Edit dispense for ${e.patientId}` });
    await edit.click();
    const dialog = page.getByRole('dialog', { name: `Edit dispense for ${e.patientId}` });
    await dialog.waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe(`button Edit dispense for ${e.patientId}`);
  });
});
