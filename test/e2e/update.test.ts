/**
 * A new version of the app: build A runs with records sent
 * and records pending; the server then serves build B, whose `dispenses` collection schema has a
 * higher version. B's service worker waits and the app says "Update available"; it will not reload
 * with a dispense half entered, in this tab or another; accepted, the page reloads into B, which migrates the records on
 * the device: every one is still there, the pending ones still pending, the sent ones not sent
 * again, and the pending ones reach PostgreSQL once.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expectWorkspaceWith, storedOnce, waitForAppShell } from './app-shell';
import { dispense, entry, openSyncPanel, recordPushes, rowSync, syncNow, waitForPending } from './counter';
import { DISPENSE_SCHEMA_VERSION } from '../../schemas/rxdb-schema';
import { CLIENT_DIST, describeE2E, ensureClientBuilt, signIn, startE2E, type E2E } from './harness';

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = process.env.E2E_SCREENSHOTS;

/** The IndexedDB databases of the records, by collection schema version. */
const recordDatabases = (page: Page) =>
  page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.endsWith('--dispenses')));

describeE2E('a new version of the app', () => {
  let e2e: E2E;
  let served: string;
  let buildB: string;
  let context: BrowserContext;

  beforeAll(async () => {
    await ensureClientBuilt();
    // Build A (the real schema version) is served from a folder of its own, replaced by B later.
    served = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-served-'));
    fs.cpSync(CLIENT_DIST, served, { recursive: true });
    buildB = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-build-b-'));
    execFileSync(path.join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn', '--outDir', buildB, '--emptyOutDir'], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production', SEMS_TEST_SCHEMA_VERSION: String(DISPENSE_SCHEMA_VERSION + 1) },
    });
    e2e = await startE2E({ env: { CLIENT_DIST: served } });
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
  }, 240_000);
  afterAll(async () => {
    await e2e?.close();
    for (const dir of [served, buildB]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('"Update available" waits for the user and a finished form; after it every record is there and the pending ones sync once', async () => {
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page);
    await waitForAppShell(page);
    expect(await recordDatabases(page)).toEqual([expect.stringMatching(new RegExp(`--${DISPENSE_SCHEMA_VERSION}--dispenses$`))]);
    await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).uncheck();
    const sent = [await dispense(page, entry({ patientId: 'UPD-SENT-1' })), await dispense(page, entry({ patientId: 'UPD-SENT-2' }))];
    await syncNow(page);
    await waitForPending(page, 0);
    const pending = [await dispense(page, entry({ patientId: 'UPD-PEND-1' })), await dispense(page, entry({ patientId: 'UPD-PEND-2' }))];
    await waitForPending(page, 2);
    const pushes = recordPushes(page);

    // The server now has build B. The next page load finds its service worker, which waits.
    fs.rmSync(served, { recursive: true, force: true });
    fs.cpSync(buildB, served, { recursive: true });
    await page.reload();
    await expectWorkspaceWith(page, [...sent, ...pending]);
    const prompt = page.getByRole('region', { name: 'Update available' });
    await prompt.waitFor();

    // A dispense half entered: no reload until it is saved or cleared.
    const form = page.getByRole('form', { name: 'New dispense' });
    await form.getByLabel('Patient ID').fill('UPD-HALF');
    const update = prompt.getByRole('button', { name: 'Update now' });
    expect(await update.isDisabled()).toBe(true);
    await prompt.getByText('Save or clear the dispense being entered first').waitFor();
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'update-available.png') });
    await form.getByRole('button', { name: 'Clear' }).click();
    expect(await update.isEnabled()).toBe(true);

    // Another tab, still on A, with a dispense half entered: no update either (it would save into
    // the storage B migrates and empties).
    const other = await context.newPage();
    const otherPushes = recordPushes(other); // either tab may be the one that sends
    await other.goto('/');
    await expectWorkspaceWith(other, [...sent, ...pending]);
    await other.getByRole('region', { name: 'Update available' }).waitFor();
    const otherForm = other.getByRole('form', { name: 'New dispense' });
    await otherForm.getByLabel('Patient ID').fill('UPD-HALF-2');
    await update.click();
    await prompt.getByText('Another tab of SEMS Dispense in this browser has a dispense being entered').waitFor();
    expect(await recordDatabases(page)).toEqual([expect.stringMatching(new RegExp(`--${DISPENSE_SCHEMA_VERSION}--dispenses$`))]);
    await otherForm.getByRole('button', { name: 'Clear' }).click();

    // Accepted: both tabs reload into B, which migrates the records to the new schema version.
    const reloaded = [page.waitForEvent('framenavigated'), other.waitForEvent('framenavigated')];
    await update.click();
    await Promise.all(reloaded);
    await expectWorkspaceWith(page, [...sent, ...pending]);
    await expectWorkspaceWith(other, [...sent, ...pending]);
    expect(await other.getByRole('region', { name: 'Update available' }).count()).toBe(0);
    await page.waitForFunction(
      async (next) => (await indexedDB.databases()).some((d) => d.name?.endsWith(`--${next}--dispenses`)),
      DISPENSE_SCHEMA_VERSION + 1,
    );
    expect(await prompt.count()).toBe(0);
    await waitForPending(page, 2);
    for (const e of sent) expect(await rowSync(page, e.patientId).textContent()).toBe('Synced');
    for (const e of pending) expect(await rowSync(page, e.patientId).textContent()).toBe('Pending');

    // The pending records go, once; the ones sent before the update are not sent again.
    await syncNow(page);
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, [...sent, ...pending])).toEqual(
      [...sent, ...pending].map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })).sort((a, b) => a.patient_id.localeCompare(b.patient_id)),
    );
    const pendingIds = await e2e.sql<{ external_id: string }>('SELECT external_id FROM dispenses WHERE patient_id LIKE $1', ['UPD-PEND-%']);
    expect([...pushes.ids, ...otherPushes.ids].sort()).toEqual(pendingIds.map((r) => r.external_id).sort());
  });
});
