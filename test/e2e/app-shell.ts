/** Steps around the service worker and the app shell, for the offline-start tests. */
import type { Page } from 'playwright-core';
import type { Entry } from './counter';
import type { E2E } from './harness';

/** Waits until the service worker is active (the whole app precached) and controls the page. */
export async function waitForAppShell(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    const registration = await navigator.serviceWorker.ready;
    return registration.active?.state === 'activated' && navigator.serviceWorker.controller !== null;
  });
}

/** The app opened signed in (the counter form) and shows a row for each entry. */
export async function expectWorkspaceWith(page: Page, entries: Entry[]): Promise<void> {
  await page.getByRole('heading', { name: 'New dispense' }).waitFor();
  for (const e of entries) await page.getByRole('row').filter({ hasText: e.patientId }).first().waitFor();
}

/** Per patient of `entries`: how many rows PostgreSQL holds, and how many audit rows they have. */
export async function storedOnce(e2e: E2E, entries: Entry[]): Promise<{ patient_id: string; rows: number; audits: number }[]> {
  return e2e.sql<{ patient_id: string; rows: number; audits: number }>(
    `SELECT d.patient_id, count(DISTINCT d.external_id)::int AS rows, count(a.id)::int AS audits
       FROM dispenses d LEFT JOIN audit_logs a ON a.entity_id = d.external_id
      WHERE d.patient_id = ANY($1) GROUP BY d.patient_id ORDER BY d.patient_id`,
    [entries.map((e) => e.patientId)],
  );
}
