/**
 * Opening with no network: on a browser profile kept on disk, after one online
 * sign-in, a reload, a new tab and a browser restarted with no network each open the app signed in
 * with every record, and recording goes on; back online, every record reaches PostgreSQL once.
 * A token that expires meanwhile stops nothing but the sync, until the next sign-in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext } from 'playwright-core';
import type { User } from '../../schemas/api';
import { issueToken } from '../../server/auth';
import { parseEnv } from '../../server/env';
import { TEST_JWT_SECRET } from '../support/server';
import { expectWorkspaceWith, storedOnce, waitForAppShell } from './app-shell';
import { dispense, entry, openSyncPanel, readPending, recordPushes, syncNow, waitForPending, waitForState, type Entry } from './counter';
import { describeE2E, launchPersistent, signIn, startE2E, type E2E } from './harness';

describeE2E('opening the app with no network (Chromium)', () => {
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

  test('a token that expires while offline: recording goes on, the sync waits for a sign-in, and nothing is lost or sent twice', async () => {
    const browserContext = await e2e.newContext();
    browserContext.setDefaultTimeout(20_000);
    const page = await browserContext.newPage();
    await page.goto('/');
    await signIn(page);
    await waitForAppShell(page);
    // The session's token is swapped for one of the same user that lives 2 seconds: a real token,
    // signed with the server's secret, as test/faults/token-expiry.test.ts makes them.
    const config = parseEnv({ NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET });
    await page.evaluate(
      (issue) => {
        const stored = JSON.parse(localStorage.getItem('sems_session')!) as { state: { user: User } };
        localStorage.setItem('sems_session', JSON.stringify({ ...stored, state: { ...stored.state, ...issue } }));
      },
      issueToken(
        { ...config, TOKEN_TTL_SECONDS: 2 },
        (await page.evaluate(() => JSON.parse(localStorage.getItem('sems_session')!).state.user)) as User,
      ),
    );

    await browserContext.setOffline(true);
    await page.reload();
    await sleep(2500); // expired, offline
    const made = [await dispense(page, entry({ patientId: 'EXPIRED-1' })), await dispense(page, entry({ patientId: 'EXPIRED-2' }))];
    await page.reload();
    await expectWorkspaceWith(page, made);

    // Online: the server refuses the token; the records stay pending and the app asks for a sign-in.
    await browserContext.setOffline(false);
    await syncNow(page);
    const banner = page.getByRole('alert').filter({ hasText: 'Your session has ended' });
    await banner.waitFor();
    expect(await readPending(page)).toBe('2');
    expect(await storedOnce(e2e, made)).toEqual([]);

    await (await openSyncPanel(page)).getByRole('button', { name: 'Sign in again' }).click();
    await signIn(page);
    await expectWorkspaceWith(page, made);
    await syncNow(page);
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, made)).toEqual(made.map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })));
    await browserContext.close();
  });
});
