/** What a pharmacist does at the counter, as Playwright steps: fill a dispense, read the sync panel. */
import type { Page } from 'playwright-core';

export interface Entry {
  patientId: string;
  medicationCode: string;
  medicationName: string;
  quantity: string;
  unit: string;
  patientName?: string;
}

let counter = 0;
export function entry(overrides: Partial<Entry> = {}): Entry {
  counter += 1;
  return {
    patientId: `P-${String(counter).padStart(5, '0')}`,
    patientName: `Test Patient ${counter}`,
    medicationCode: 'AMOX500',
    medicationName: 'Amoxicillin 500 mg capsules',
    quantity: '21',
    unit: 'capsule',
    ...overrides,
  };
}

/** Fills the new-dispense form by label and saves with Enter; waits until the form is cleared. */
export async function dispense(page: Page, e: Entry = entry()): Promise<Entry> {
  const form = page.getByRole('form', { name: 'New dispense' });
  await form.getByLabel('Patient ID').fill(e.patientId);
  if (e.patientName) await form.getByLabel('Patient name').fill(e.patientName);
  await form.getByLabel('Medication code').fill(e.medicationCode);
  await form.getByLabel('Medication name').fill(e.medicationName);
  await form.getByLabel('Quantity').fill(e.quantity);
  await form.getByLabel('Unit').selectOption(e.unit);
  await form.getByLabel('Medication name').press('Enter');
  await page.getByRole('row').filter({ hasText: e.patientId }).first().waitFor();
  // The row can show before the form has cleared itself: typing the next entry must wait for that.
  // (No named function inside: tsx, which runs test/e2e/screenshot.ts, would wrap it in a helper the page lacks.)
  await page.waitForFunction(() => document.querySelector<HTMLInputElement>('#new-patientId')?.value === '');
  return e;
}

/** Opens the sync panel (if closed) and returns its region. */
export async function openSyncPanel(page: Page) {
  const toggle = page.getByRole('button', { name: /^Sync status/ });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  return page.getByRole('region', { name: 'Sync' });
}

/** Presses "Sync now" in the panel (opening it first: it closes when the page is clicked elsewhere). */
export async function syncNow(page: Page): Promise<void> {
  await (await openSyncPanel(page)).getByRole('button', { name: 'Sync now' }).click();
}

/** The exact pending count the panel shows. */
export async function readPending(page: Page): Promise<string | null> {
  return (await openSyncPanel(page)).getByTestId('pending-count').textContent();
}

/** Waits until the panel shows exactly `n` pending. */
export async function waitForPending(page: Page, n: number, timeout?: number): Promise<void> {
  const panel = await openSyncPanel(page);
  await panel
    .getByTestId('pending-count')
    .filter({ hasText: new RegExp(`^${n}$`) })
    .waitFor({ timeout });
}

export async function readState(page: Page): Promise<string | null> {
  return (await openSyncPanel(page)).getByTestId('sync-state').textContent();
}

export async function waitForState(page: Page, label: string): Promise<void> {
  await (await openSyncPanel(page)).getByTestId('sync-state').filter({ hasText: label }).waitFor();
}

/** The sync badge in the list row of a patient. */
export const rowSync = (page: Page, patientId: string) => page.getByRole('row').filter({ hasText: patientId }).locator('.badge');

/** Push requests seen by a page, with the number of rows each carried. */
export function recordPushes(page: Page): { rows: number[]; ids: string[] } {
  const seen = { rows: [] as number[], ids: [] as string[] };
  page.on('request', (req) => {
    if (req.method() !== 'POST' || !req.url().endsWith('/api/sync/dispenses/push')) return;
    const body = req.postDataJSON() as { rows: { newDocumentState: { externalId: string } }[] };
    seen.rows.push(body.rows.length);
    seen.ids.push(...body.rows.map((r) => r.newDocumentState.externalId));
  });
  return seen;
}

/**
 * Signs out with the header's button and the sign-out dialog, and waits for the sign-in screen.
 * `removeData`: also removes the site's records from the device (offered only when all were sent).
 */
export async function signOut(page: Page, removeData = false): Promise<void> {
  await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Sign out' });
  await dialog.getByRole('button', removeData ? { name: /remove this site's data/ } : { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
}

/** Answers of the server to a page's pushes: every record it refused, with the code. */
export function recordRefusals(page: Page): { externalId: string | null; code: string }[] {
  const refused: { externalId: string | null; code: string }[] = [];
  page.on('response', async (res) => {
    if (res.request().method() !== 'POST' || !res.url().endsWith('/api/sync/dispenses/push') || res.status() !== 200) return;
    const body = (await res.json().catch(() => null)) as { rejected?: { externalId: string | null; code: string }[] } | null;
    refused.push(...(body?.rejected ?? []).map((r) => ({ externalId: r.externalId, code: r.code })));
  });
  return refused;
}

/**
 * Auto sync off for every site of this browser, before the app opens (the page must be on the
 * app's origin): a start with records waiting then sends nothing until "Sync now".
 */
export async function autoSyncOffBeforeStart(page: Page): Promise<void> {
  await page.evaluate(() =>
    localStorage.setItem('sems_sync_config', JSON.stringify({ state: { enabled: false, intervalSeconds: 300 }, version: 1 })),
  );
}
