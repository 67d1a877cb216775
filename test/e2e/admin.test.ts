/**
 * The site admin in the built app, in Chromium: which devices hold unsent records (two devices,
 * one with auto sync off), a stale device flagged, a record's history from the audit trail
 * (created, edited twice, voided: four versions), and devices whose clocks are 3 days off: each
 * warns, stores dispensedAt in the server's time, and the devices view shows its offset.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { BrowserContext, Page } from 'playwright-core';
import { seedUsers } from '../support/users';
import { eventually } from '../support/eventually';
import { dispense, entry, openSyncPanel, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

jest.setTimeout(180_000);

const ADMIN = { username: 'admin1', password: 'admin-pass-1', siteId: USER.siteId };
const DAY = 24 * 60 * 60_000;

const until = (what: string, check: () => Promise<boolean>) => eventually(check, { what, timeout: 20_000, interval: 200 });

/** The id this browser uses at the site (client/data/site.ts keeps it in localStorage). */
const deviceIdOf = (page: Page) => page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('sems_device:'))![1]);

describeE2E('the site admin: devices, history and device clocks', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];
  let admin: Page;

  const device = async (user: typeof USER, init?: (page: Page) => Promise<void>) => {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    await init?.(page);
    await page.goto('/');
    await signIn(page, user);
    return page;
  };
  const reported = async (id: string) =>
    (
      await e2e.sql<{ pending_count: number | null; made_count: number | null }>(
        'SELECT pending_count, made_count FROM devices WHERE device_id = $1',
        [id],
      )
    )[0];
  const devicesList = () => admin.getByRole('list', { name: 'Devices' });
  const statusOf = (id: string) => devicesList().locator(`[data-device-id="${id}"]`).getByTestId('device-status');
  const refresh = async () => {
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.getByRole('button', { name: 'Refresh' }).waitFor(); // not "Refreshing…"
  };

  beforeAll(async () => {
    e2e = await startE2E();
    await seedUsers(e2e.server.db, [{ username: ADMIN.username, siteId: ADMIN.siteId, role: 'admin', password: ADMIN.password }]);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });

  test('one device holding a record (auto sync off) and one all delivered show as such; a stale one is flagged; after its sync both are delivered', async () => {
    // Device A: a pharmacist, no admin view, auto sync off, one record pending.
    const a = await device(USER);
    expect(await a.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Admin' }).count()).toBe(0);
    const panel = await openSyncPanel(a);
    await panel.getByRole('switch', { name: 'Auto sync' }).click();
    expect(await panel.getByRole('switch', { name: 'Auto sync' }).isChecked()).toBe(false);
    await dispense(a, entry({ patientId: 'P-HELD-1' }));
    await waitForPending(a, 1);
    const idA = await deviceIdOf(a);
    await until("A's report of 1 pending", async () => (await reported(idA))?.pending_count === 1);

    // Device B: the admin, one record sent.
    admin = await device(ADMIN);
    await dispense(admin, entry({ patientId: 'P-SENT-1' }));
    await syncNow(admin);
    await waitForPending(admin, 0);
    const idB = await deviceIdOf(admin);
    await until("B's report of 0 pending, 1 made", async () => {
      const r = await reported(idB);
      return r?.pending_count === 0 && r.made_count === 1;
    });

    await admin.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Admin' }).click();
    await statusOf(idA).filter({ hasText: '1 record pending' }).waitFor();
    await statusOf(idB).filter({ hasText: 'All delivered' }).waitFor();
    expect(await devicesList().locator(':scope > li').count()).toBe(2);

    // A's last report moved two days back: flagged, and listed first.
    await e2e.sql("UPDATE devices SET last_seen_at = now() - interval '2 days', reported_at = now() - interval '2 days' WHERE device_id = $1", [idA]);
    await refresh();
    await statusOf(idA).filter({ hasText: 'Unseen for 2 days with 1 record pending' }).waitFor();
    expect(await devicesList().locator(':scope > li').first().getAttribute('data-device-id')).toBe(idA);
    await admin.screenshot({ path: '/tmp/admin-view.png', fullPage: true });

    // A syncs: both delivered.
    await syncNow(a);
    await waitForPending(a, 0);
    await until("A's report of 0 pending", async () => (await reported(idA))?.pending_count === 0);
    await refresh();
    await statusOf(idA).filter({ hasText: 'All delivered' }).waitFor();
    await statusOf(idB).filter({ hasText: 'All delivered' }).waitFor();
  });

  test("the export's Download CSV saves the period's dispensing log of the site", async () => {
    const downloading = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Download CSV' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^dispenses-SITE-E2E-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
    const text = fs.readFileSync(await download.path(), 'utf8');
    const rows = parse(text, { columns: true }) as { patientId: string; siteId: string }[];
    expect(rows.map((r) => r.patientId).sort()).toEqual(['P-HELD-1', 'P-SENT-1']);
    await admin
      .getByRole('status')
      .filter({ hasText: `Downloaded ${download.suggestedFilename()}` })
      .waitFor();
  });

  test('a record created, edited twice and voided shows four versions with what changed; offline the history says it needs the network', async () => {
    await admin.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Counter' }).click();
    await dispense(admin, entry({ patientId: 'P-HIST-1', patientName: 'Ada History' }));
    await syncNow(admin);
    await waitForPending(admin, 0);
    for (const quantity of ['30', '40']) {
      await admin.getByRole('button', { name: /^Edit dispense for Ada History/ }).click();
      const dialog = admin.getByRole('dialog', { name: /Edit dispense/ });
      await dialog.getByLabel('Quantity').fill(quantity);
      await dialog.getByLabel('Reason for the change').fill(`Quantity was ${quantity}`);
      await dialog.getByLabel('Quantity').press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      await syncNow(admin);
      await waitForPending(admin, 0);
    }
    await admin.getByRole('button', { name: /^Void dispense for Ada History/ }).click();
    const voiding = admin.getByRole('dialog', { name: 'Void dispense' });
    await voiding.getByLabel('Reason for voiding').fill('Wrong patient');
    await voiding.getByLabel('Reason for voiding').press('Enter');
    await voiding.waitFor({ state: 'hidden' });
    await syncNow(admin);
    await waitForPending(admin, 0);

    await admin.getByRole('button', { name: /^History of dispense for Ada History/ }).click();
    const history = admin.getByRole('dialog', { name: /History of the dispense for Ada History/ });
    const versions = history.getByTestId('version');
    await versions.nth(3).waitFor();
    expect(await versions.count()).toBe(4);
    const headings = await history.getByRole('heading', { level: 3 }).allTextContents();
    expect(headings).toEqual([
      `Version 1: Created by ${ADMIN.username}`,
      `Version 2: Edited by ${ADMIN.username}`,
      `Version 3: Edited by ${ADMIN.username}`,
      `Version 4: Voided by ${ADMIN.username}`,
    ]);
    const changes = async (n: number) =>
      (
        await history
          .getByRole('table', { name: `Changes in version ${n}` })
          .locator('tbody tr')
          .allInnerTexts()
      ).map((t) => t.split('\t').map((c) => c.trim()));
    // In the form's words, without the bookkeeping (when it last changed).
    expect(await changes(2)).toEqual([['Quantity', '21', '30']]);
    expect(await changes(3)).toEqual([['Quantity', '30', '40']]);
    // Each edit's reason, in a line of its own.
    expect(await versions.nth(1).getByText('Reason: Quantity was 30').count()).toBe(1);
    expect(await versions.nth(2).getByText('Reason: Quantity was 40').count()).toBe(1);
    expect(await changes(4)).toEqual([
      ['Status', 'dispensed', 'voided'],
      ['Reason for voiding', '(empty)', 'Wrong patient'],
    ]);
    expect(await history.textContent()).not.toMatch(/updatedAt|voidReason|siteId|externalId/);
    const idB = await deviceIdOf(admin);
    expect(await history.locator('.meta').first().textContent()).toContain(`device ${idB.slice(0, 8)}`);
    await admin.screenshot({ path: '/tmp/admin-history.png' });
    await history.getByRole('button', { name: 'Close' }).click();

    await admin.context().setOffline(true);
    try {
      await admin.getByRole('button', { name: /^History of dispense for Ada History/ }).click();
      await history.getByRole('alert').filter({ hasText: "The record's history needs the network" }).waitFor();
      await history.getByRole('button', { name: 'Close' }).click();
    } finally {
      await admin.context().setOffline(false);
    }
  });

  test.each([
    ['fast', 3],
    ['slow', -3],
  ])('a browser whose clock is 3 days %s warns, stores dispensedAt in server time, and the devices view shows its offset', async (word, days) => {
    const page = await device(USER, (p) => p.clock.install({ time: new Date(Date.now() + days * DAY) }));
    await page
      .getByTestId('clock-warning')
      .filter({ hasText: `This device's clock is 3 days ${word}` })
      .waitFor();
    // The form's "Dispensed at" starts at the server's now, not the device's.
    const shownAt = await page.getByRole('form', { name: 'New dispense' }).getByLabel('Dispensed at').inputValue();
    expect(Math.abs(new Date(shownAt).getTime() - Date.now())).toBeLessThan(5 * 60_000);

    const patientId = `P-CLOCK-${word}`;
    await dispense(page, entry({ patientId }));
    await syncNow(page);
    await waitForPending(page, 0);
    const [row] = await e2e.sql<{ dispensed_at: Date; updated_at: Date }>('SELECT dispensed_at, updated_at FROM dispenses WHERE patient_id = $1', [
      patientId,
    ]);
    expect(Math.abs(row.dispensed_at.getTime() - Date.now())).toBeLessThan(5 * 60_000);
    expect(Math.abs(row.updated_at.getTime() - Date.now())).toBeLessThan(5 * 60_000);

    const id = await deviceIdOf(page);
    await until('the report of its clock', async () => (await reported(id))?.made_count === 1);
    const [{ clock_offset_ms }] = await e2e.sql<{ clock_offset_ms: string }>('SELECT clock_offset_ms FROM devices WHERE device_id = $1', [id]);
    expect(Math.abs(Number(clock_offset_ms) - days * DAY)).toBeLessThan(60_000);
    await admin.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Admin' }).click();
    await refresh();
    await devicesList()
      .locator(`[data-device-id="${id}"]`)
      .getByTestId('device-clock')
      .filter({ hasText: `3 days ${word}` })
      .waitFor();
  });

  test('after the server loses a record the admin device had sent (a restored backup), the device sends it again and the server holds it once more', async () => {
    const [{ external_id: lost }] = await e2e.sql<{ external_id: string }>("SELECT external_id FROM dispenses WHERE patient_id = 'P-SENT-1'");
    // What a restore from an older backup does: the record and its audit rows are gone.
    await e2e.sql('ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_change');
    try {
      await e2e.sql('DELETE FROM audit_logs WHERE entity_id = $1', [lost]);
      await e2e.sql('DELETE FROM dispenses WHERE external_id = $1', [lost]);
    } finally {
      await e2e.sql('ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_change');
    }
    // The report after the run is answered with what the server holds: the device finds the record
    // the server lacks and makes it pending again; the next run sends it.
    await syncNow(admin);
    await waitForPending(admin, 1);
    await syncNow(admin);
    await waitForPending(admin, 0);
    const creates = await e2e.sql<{ n: number }>("SELECT count(*)::int AS n FROM audit_logs WHERE entity_id = $1 AND action = 'create'", [lost]);
    expect(creates[0].n).toBe(1);
    await syncNow(admin); // its report: the server holds every record it made
    await until('the warning gone', async () => (await admin.getByTestId('delivery-warning').count()) === 0);
  });
});
