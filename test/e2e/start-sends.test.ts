/**
 * Records waiting at a start or a sign-in, in Chromium on a browser profile kept on disk: with auto
 * sync on they are sent at once, not at the timer's first tick (5 minutes by default), when the
 * browser is started again online after recording offline, and when a user signs in again after a
 * sign-out that kept them. With auto sync off nothing leaves until "Sync now".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expectWorkspaceWith, storedOnce, waitForAppShell } from './app-shell';
import { dispense, entry, openSyncPanel, readPending, recordPushes, signOut, syncNow, waitForPending, waitForState, type Entry } from './counter';
import { describeE2E, launchPersistent, signIn, startE2E, type E2E } from './harness';

jest.setTimeout(120_000);

describeE2E('records waiting when the app starts or a user signs in', () => {
  let e2e: E2E;
  let profile: string;
  let context: BrowserContext | null = null;

  /** The browser (re)started on the profile, online unless said, on the app. */
  async function start(offline = false): Promise<Page> {
    await context?.close();
    context = await launchPersistent(profile, e2e.server.url, { offline });
    context.setDefaultTimeout(20_000);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/');
    return page;
  }

  /** This device's last report, as the server keeps it. */
  const report = async (page: Page) => {
    const id = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('sems_device:'))![1]);
    const [row] = await e2e.sql<{ reported_at: Date | null; pending_count: number | null }>(
      'SELECT reported_at, pending_count FROM devices WHERE device_id = $1',
      [id],
    );
    return row;
  };

  beforeAll(async () => {
    e2e = await startE2E();
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-start-'));
  });
  afterAll(async () => {
    await context?.close();
    await e2e?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  test('with auto sync on, records made offline are sent as soon as the browser is started again online, without "Sync now"', async () => {
    let page = await start();
    await signIn(page);
    await waitForAppShell(page);
    await context!.setOffline(true);
    const made: Entry[] = [];
    for (let i = 1; i <= 4; i++) made.push(await dispense(page, entry({ patientId: `START-${i}` })));
    await waitForPending(page, 4);

    page = await start();
    await expectWorkspaceWith(page, made);
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, made)).toEqual(made.map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })));
    expect(await page.getByTestId('sync-summary').textContent()).toMatch(/all synced/);
  });

  test('with auto sync on, records kept at a sign-out are sent as soon as the user signs in again', async () => {
    const page = context!.pages()[0];
    const made = await dispense(page, entry({ patientId: 'SIGN-IN-1' }));
    await waitForPending(page, 1);
    await signOut(page);
    await page.getByText('1 record is still on this device').waitFor();
    await signIn(page);
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, [made])).toEqual([{ patient_id: made.patientId, rows: 1, audits: 1 }]);
  });

  test('with auto sync off, a start online sends nothing until "Sync now"', async () => {
    let page = context!.pages()[0];
    await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).uncheck();
    await context!.setOffline(true);
    const made = await dispense(page, entry({ patientId: 'PAUSED-1' }));

    const restartedAt = new Date();
    page = await start();
    const pushes = recordPushes(page);
    await expectWorkspaceWith(page, [made]);
    await waitForState(page, 'Paused');
    // The device's report after the start (about a second in): by then an owed run would have started.
    const reportedSince = async () => ((await report(page))?.reported_at?.getTime() ?? 0) >= restartedAt.getTime();
    for (const end = Date.now() + 20_000; !(await reportedSince());) {
      if (Date.now() > end) throw new Error('The device never reported after its start');
      await page.waitForTimeout(200);
    }
    // A run owed at the start waits for that first report, then pushes at once: no push follows it.
    const isPush = (r: { method(): string; url(): string }) => r.method() === 'POST' && r.url().endsWith('/api/sync/dispenses/push');
    await expect(page.waitForRequest(isPush, { timeout: 2000 })).rejects.toThrow(/Timeout/);
    expect((await report(page)).pending_count).toBe(1);
    expect(await readPending(page)).toBe('1');
    expect(pushes.ids).toEqual([]);
    expect(await storedOnce(e2e, [made])).toEqual([]);

    await syncNow(page);
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, [made])).toEqual([{ patient_id: made.patientId, rows: 1, audits: 1 }]);
  });
});
