/**
 * Opening with no network (DESIGN.md): on a browser profile kept on disk, after one online
 * sign-in, a reload, a new tab and a browser restarted with no network each open the app signed in
 * with every record, and recording goes on; back online, every record reaches PostgreSQL once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { expectWorkspaceWith, storedOnce, waitForAppShell } from './app-shell';
import { dispense, entry, openSyncPanel, readPending, recordPushes, waitForPending, waitForState, type Entry } from './counter';
import { describeE2E, launchPersistent, signIn, startE2E, type E2E } from './harness';

describeE2E('opening the app with no network (Chromium, a profile on disk)', () => {
  let e2e: E2E;
  let profile: string;
  let context: BrowserContext | null = null;

  beforeAll(async () => {
    e2e = await startE2E();
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-profile-'));
  });
  afterAll(async () => {
    await context?.close();
    await e2e?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  test('reload, a new tab and a restarted browser open signed in with every record; back online each record reaches PostgreSQL once', async () => {
    const made: Entry[] = [];
    context = await launchPersistent(profile, e2e.server.url);
    context.setDefaultTimeout(20_000);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/');
    await signIn(page);
    await waitForAppShell(page);
    const panel = await openSyncPanel(page);
    expect(await panel.getByTestId('offline-start').textContent()).toBe('ready');
    // The timer that sends the records later, without anyone pressing "Sync now".
    await panel.getByLabel('Sync interval').selectOption({ label: '30 seconds' });
    made.push(await dispense(page, entry({ patientId: 'OFF-START-1' })));

    // The network goes: a reload opens the app from the service worker, signed in, with the record.
    await context.setOffline(true);
    await page.reload();
    await expectWorkspaceWith(page, made);
    made.push(await dispense(page, entry({ patientId: 'OFF-START-2' })));

    // A new tab, still offline.
    const tab = await context.newPage();
    await tab.goto('/');
    await expectWorkspaceWith(tab, made);
    made.push(await dispense(tab, entry({ patientId: 'OFF-START-3' })));
    await tab.close();

    // The browser is closed and started again with no network, on the same profile.
    await context.close();
    context = await launchPersistent(profile, e2e.server.url, { offline: true });
    context.setDefaultTimeout(20_000);
    const again = context.pages()[0] ?? (await context.newPage());
    await again.goto('/');
    await expectWorkspaceWith(again, made);
    made.push(await dispense(again, entry({ patientId: 'OFF-START-4' })));
    await waitForState(again, 'Offline');
    expect(await readPending(again)).toBe('4');
    expect(await storedOnce(e2e, made)).toEqual([]);

    // The network is back: the next sync sends each record once, by itself (the timer: nothing
    // was due while this browser ran, so the 'online' event alone starts no run).
    const pushes = recordPushes(again);
    await context.setOffline(false);
    await waitForPending(again, 0, 45_000);
    expect(await storedOnce(e2e, made)).toEqual(made.map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })));
    expect(pushes.ids).toHaveLength(4);
    expect(new Set(pushes.ids).size).toBe(4);
  });
});
