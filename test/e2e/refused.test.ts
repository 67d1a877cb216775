/**
 * Every refused record has a way out at the counter, in Chromium: records the server refuses as
 * dispensed ahead of its clock are listed in the sync panel with patient, medication, time and the
 * reason in the form's words, the counts add up, and "Correct" opens the record's edit dialog;
 * a refused record that was then voided is corrected the same way and reaches PostgreSQL once,
 * voided, with the corrected time, while the admin sees it held back on the device, with why.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { seedUsers } from '../support/users';
import { dispense, entry, openSyncPanel, rowSync, syncNow, waitForPending, type Entry } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

jest.setTimeout(120_000);

const ADMIN = { username: 'admin1', password: 'admin-pass-1', siteId: USER.siteId };
const AXE = path.join(path.dirname(require.resolve('axe-core/package.json')), 'axe.min.js');

/** The value a datetime-local input shows for `minutes` from now, in the page's time zone. */
const localInput = (page: Page, minutes: number) =>
  page.evaluate((ms) => {
    const d = new Date(Date.now() + ms);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }, minutes * 60_000);

/** Presses the admin view's Refresh until `done` (a device reports about a second after its sync). */
async function refreshUntil(admin: Page, done: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + 20_000; !(await done());) {
    if (Date.now() > end) throw new Error('The devices view never showed what was expected');
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.getByRole('button', { name: 'Refresh' }).waitFor(); // answered: not "Refreshing…"
  }
}

describeE2E('a refused record has a way out at the counter', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];
  let page: Page;

  // bypassCSP: the app's policy allows its own scripts only; axe-core is added to the page by the test.
  const newPage = async (user: typeof USER) => {
    const context = await e2e.newContext({ bypassCSP: true });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const p = await context.newPage();
    await p.goto('/');
    await signIn(p, user);
    return p;
  };

  /** A dispense whose time the pharmacist typed 4 minutes ahead: the server (1 minute of tolerance here) refuses it. */
  const dispenseAhead = async (e: Entry) => {
    await page
      .getByRole('form', { name: 'New dispense' })
      .getByLabel('Dispensed at')
      .fill(await localInput(page, 4));
    return dispense(page, e);
  };

  /** Corrects the record's "Dispensed at" to now in the dialog "Correct" opened, and saves. */
  const correctTimeInDialog = async () => {
    const dialog = page.getByRole('dialog', { name: /Edit dispense/ });
    await dialog
      .getByTestId('edit-refusal')
      .filter({ hasText: /Dispensed at is \d+ minutes? ahead/ })
      .waitFor();
    await dialog.getByLabel('Dispensed at').fill(await localInput(page, 0));
    await dialog.getByLabel('Reason for the change').fill('Time typed wrong');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'detached' });
  };

  beforeAll(async () => {
    e2e = await startE2E({ env: { CLOCK_AHEAD_LIMIT_MINUTES: '1' } });
    await seedUsers(e2e.server.db, [{ username: ADMIN.username, siteId: ADMIN.siteId, role: 'admin', password: ADMIN.password }]);
    page = await newPage(USER);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });

  test('refused records are listed with patient, medication, time and the reason in words; counts add up; "Correct" opens the record and the corrected one is sent once', async () => {
    const first = await dispenseAhead(entry({ patientId: 'REF-1', patientName: 'Maria Lopez', medicationName: 'Metformin 500 mg tablets' }));
    const second = await dispenseAhead(entry({ patientId: 'REF-2', patientName: 'Kofi Mensah', medicationName: 'Amoxicillin 500 mg capsules' }));
    await syncNow(page);
    const panel = await openSyncPanel(page);
    await panel.getByRole('heading', { name: 'Rejected by the server (2)' }).waitFor();

    const items = panel.getByTestId('rejected-record');
    expect(await items.count()).toBe(2);
    for (const e of [first, second]) {
      const item = items.filter({ hasText: e.patientName! });
      await item
        .filter({ hasText: e.patientId })
        .filter({ hasText: e.medicationName })
        .filter({ hasText: /Dispensed \d\d:\d\d/ })
        .waitFor();
      expect(await item.textContent()).toMatch(/Dispensed at is \d+ minutes? ahead of the server's clock/);
      expect(await item.textContent()).not.toMatch(/dispensedAt|updatedAt/);
    }
    expect(await panel.getByTestId('pending-count').textContent()).toBe('0');
    expect(await panel.getByTestId('rejected-count').textContent()).toBe('2');
    expect(await panel.getByTestId('unsent-count').textContent()).toBe('2');
    expect(await page.getByTestId('sync-summary').textContent()).toBe('Ready · 2 rejected');
    await page.screenshot({ path: '/tmp/sync-panel-refused.png' });
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const { axe } = window as unknown as { axe: { run: (c: object) => Promise<{ violations: { id: string }[] }> } };
      return (await axe.run({ include: [['.rejected-list']] })).violations.map((v) => v.id);
    });
    expect(violations).toEqual([]);
    expect(await e2e.sql('SELECT 1 FROM dispenses WHERE patient_id IN ($1, $2)', [first.patientId, second.patientId])).toHaveLength(0);

    await panel.getByRole('button', { name: `Correct dispense for ${first.patientName} (${first.patientId})` }).click();
    await correctTimeInDialog();
    await waitForPending(page, 1);
    expect(await (await openSyncPanel(page)).getByTestId('rejected-count').textContent()).toBe('1');
    expect(await page.getByTestId('sync-summary').textContent()).toBe('Ready · 1 pending · 1 rejected');
    await syncNow(page);
    await rowSync(page, first.patientId).filter({ hasText: 'Synced' }).waitFor();
    const rows = await e2e.sql<{ n: number }>('SELECT count(*)::int AS n FROM dispenses WHERE patient_id = $1', [first.patientId]);
    expect(rows).toEqual([{ n: 1 }]);
  });

  test('a refused record voided at the counter is held back (the admin sees which and why), then corrected from the panel it reaches PostgreSQL once, voided, with the corrected time', async () => {
    const made = await dispenseAhead(entry({ patientId: 'REF-VOID-1', patientName: 'Ines Duarte' }));
    await syncNow(page);
    await rowSync(page, made.patientId).filter({ hasText: 'Rejected' }).waitFor();

    // Voided, it is sent again and refused again: still held back, and no Edit, but "Correct".
    const row = page.getByRole('row').filter({ hasText: made.patientId });
    await row.getByRole('button', { name: /^Void dispense/ }).click();
    const voiding = page.getByRole('dialog', { name: 'Void dispense' });
    await voiding.getByLabel('Reason for voiding').fill('Wrong patient');
    await voiding.getByLabel('Reason for voiding').press('Enter');
    await voiding.waitFor({ state: 'detached' });
    await syncNow(page);
    await row.filter({ hasText: 'Rejected' }).filter({ hasText: 'Voided: Wrong patient' }).waitFor();
    expect(await row.getByRole('button', { name: /^Edit dispense/ }).count()).toBe(0);
    await row.getByRole('button', { name: `Correct dispense for ${made.patientName} (${made.patientId})` }).waitFor();
    const item = (await openSyncPanel(page)).getByTestId('rejected-record').filter({ hasText: made.patientId });
    await item.filter({ hasText: 'voided' }).waitFor();

    // The admin sees the record held back on the device, and why.
    const deviceId = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('sems_device:'))![1]);
    const admin = await newPage(ADMIN);
    await admin.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Admin' }).click();
    const card = admin.locator(`[data-device-id="${deviceId}"]`);
    const held = card.getByTestId('held-back-record').filter({ hasText: made.patientId });
    await refreshUntil(admin, async () => (await held.filter({ hasText: 'voided' }).count()) === 1);
    await card
      .getByTestId('device-status')
      .filter({ hasText: /refused by the server/ })
      .waitFor();
    await held.filter({ hasText: made.patientName! }).filter({ hasText: made.medicationName }).filter({ hasText: 'voided' }).waitFor();
    expect(await held.textContent()).toMatch(/Dispensed at is \d+ minutes? ahead of the server's clock/);
    expect(await card.textContent()).not.toMatch(/Server lacks/);

    // Corrected from the panel: sent, taken, and still voided.
    await item.getByRole('button', { name: `Correct dispense for ${made.patientName} (${made.patientId})` }).click();
    await correctTimeInDialog();
    await waitForPending(page, 1);
    await syncNow(page);
    await waitForPending(page, 0);
    await (await openSyncPanel(page)).getByTestId('rejected-record').filter({ hasText: made.patientId }).waitFor({ state: 'detached' });
    const stored = await e2e.sql<{ status: string; void_reason: string; dispensed_at: Date }>(
      'SELECT status, void_reason, dispensed_at FROM dispenses WHERE patient_id = $1',
      [made.patientId],
    );
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ status: 'voided', void_reason: 'Wrong patient' });
    expect(stored[0].dispensed_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(
      await e2e.sql("SELECT 1 FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = $1 AND a.action = 'create'", [
        made.patientId,
      ]),
    ).toHaveLength(1);

    await refreshUntil(admin, async () => (await held.count()) === 0);
  });
});
