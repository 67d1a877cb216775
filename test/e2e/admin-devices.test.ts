/**
 * The Admin view in Chromium: each device with the browser and system it runs and a name the
 * admin gives it, times that move on without Refresh, the export's errors in the server's words
 * and its file named by the days it holds; no sideways scroll at 1280, 768 and 390 px whatever a
 * device holds, and no axe-core violation.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describeUserAgent } from '../../server/user-agent';
import { call, login } from '../support/api';
import { seedUsers } from '../support/users';
import { dispense, entry, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

jest.setTimeout(90_000);

const ADMIN = { username: 'admin1', password: 'admin-pass-1', siteId: USER.siteId };
const AXE = path.join(path.dirname(require.resolve('axe-core/package.json')), 'axe.min.js');

/** This browser's device id at the site (client/data/site.ts keeps it in localStorage). */
const deviceIdOf = (page: Page) => page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('sems_device:'))![1]);

describeE2E("the Admin view's devices and export", () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];
  let counter: Page;
  let admin: Page;

  // bypassCSP: the app's policy allows its own scripts only; axe-core is added to the page by the test.
  const newPage = async (user: typeof USER, init?: (page: Page) => Promise<void>) => {
    const context = await e2e.newContext({ bypassCSP: true });
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    await init?.(page);
    await page.goto('/');
    await signIn(page, user);
    return page;
  };
  const card = (id: string) => admin.locator(`[data-device-id="${id}"]`);

  beforeAll(async () => {
    e2e = await startE2E();
    await seedUsers(e2e.server.db, [{ username: ADMIN.username, siteId: ADMIN.siteId, role: 'admin', password: ADMIN.password }]);
    counter = await newPage(USER);
    await dispense(counter, entry({ patientId: 'DEV-1' }));
    await syncNow(counter);
    await waitForPending(counter, 0);
    // The admin's page runs on a clock the test moves, to see "seen … ago" move on by itself.
    admin = await newPage(ADMIN, (page) => page.clock.install());
    await admin.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Admin' }).click();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });

  test('a device shows the browser and system it runs; the admin names it, and the name stays; "seen … ago" moves on without Refresh', async () => {
    const id = await deviceIdOf(counter);
    const expected = describeUserAgent(await counter.evaluate(() => navigator.userAgent));
    expect(expected).toMatch(/^Chrome \d+ .*on Linux$/);
    await card(id).getByTestId('device-browser').filter({ hasText: expected! }).waitFor();
    await card(id)
      .getByTestId('device-seen')
      .filter({ hasText: /seconds ago/ })
      .waitFor();

    await card(id)
      .getByRole('button', { name: `Rename Device ${id.slice(0, 8)}` })
      .click();
    await card(id)
      .getByLabel(`Name of device ${id.slice(0, 8)}`)
      .fill('Counter 2, front desk');
    await card(id).getByRole('button', { name: 'Save name' }).click();
    await card(id).getByRole('heading', { name: 'Counter 2, front desk' }).waitFor();
    expect(await e2e.sql('SELECT name FROM devices WHERE device_id = $1', [id])).toEqual([{ name: 'Counter 2, front desk' }]);
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.getByRole('button', { name: 'Refresh' }).waitFor();
    await card(id).getByRole('heading', { name: 'Counter 2, front desk' }).waitFor();

    await admin.clock.fastForward('03:00');
    await card(id).getByTestId('device-seen').filter({ hasText: '3 minutes ago' }).waitFor();
  });

  test("the export says the server's reason for a period it refuses, and names the file by the days it holds", async () => {
    const form = admin.getByRole('form', { name: 'Dispensing log' });
    const period = async (from: string, to: string) => {
      await form.getByLabel('From').fill(from);
      await form.getByLabel('To (included)').fill(to);
      await form.getByRole('button', { name: 'Download CSV' }).click();
    };
    await period('2026-03-10', '2026-03-01');
    await form.getByRole('alert').filter({ hasText: 'to must be after from' }).waitFor();
    await period('2024-01-01', '2025-06-01');
    await form.getByRole('alert').filter({ hasText: 'A period is at most 366 days' }).waitFor();
    expect(await form.textContent()).not.toMatch(/does not match the API/);

    const today = await admin.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    });
    const downloading = admin.waitForEvent('download');
    await period(today, today);
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`dispenses-${USER.siteId}-${today}-to-${today}.csv`);
    await form
      .getByRole('status')
      .filter({ hasText: `Downloaded ${download.suggestedFilename()}` })
      .waitFor();
  });

  test('whatever a device holds, the Admin view does not scroll sideways at 1280, 768 or 390 px, and axe-core finds no violation', async () => {
    // A device that holds back a refused record with long words, reported as a device does.
    const { token } = await login(e2e.server.url, USER.username, USER.password);
    const long = 'Supercalifragilisticexpialidocious-'.repeat(5);
    const r = await call(e2e.server.url, 'POST', '/api/sync/devices/report', {
      token,
      headers: {
        'x-device-id': `tablet-${'x'.repeat(40)}`,
        'user-agent': 'Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) Version/17.7 Safari/605.1.15',
      },
      body: {
        pendingCount: 3,
        oldestPendingAt: new Date(Date.now() - 3600_000).toISOString(),
        appVersion: '0.1.0',
        madeCount: 9,
        deviceTime: new Date().toISOString(),
        refusedCount: 1,
        refused: [
          {
            externalId: '0190a1b2-0000-7000-8000-000000000001',
            patientId: 'P'.repeat(64),
            patientName: long.slice(0, 200),
            medicationName: long.slice(0, 200),
            dispensedAt: new Date().toISOString(),
            voided: true,
            code: 'clock_ahead',
            reason: `dispensedAt is 3 days ahead of the server's clock: ${long}`,
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    await e2e.sql('UPDATE devices SET name = $1 WHERE device_id LIKE $2', ['W'.repeat(60), 'tablet-%']);
    await admin.getByRole('button', { name: 'Refresh' }).click();
    await admin.getByTestId('held-back-record').filter({ hasText: 'Dispensed at is 3 days ahead' }).waitFor();

    // The Admin view itself: nothing in it reaches past the window, and it has nothing to scroll
    // sideways. (The header above it is laid out elsewhere.)
    for (const width of [1280, 768, 390]) {
      await admin.setViewportSize({ width, height: 800 });
      const past = await admin.evaluate(() => {
        const view = document.querySelector('main.admin-view')!;
        const beyond = [view, ...view.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
        return {
          scrollWidth: view.scrollWidth <= view.clientWidth ? 'fits' : view.scrollWidth,
          beyond: beyond.slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
        };
      });
      expect({ width, ...past }).toEqual({ width, scrollWidth: 'fits', beyond: [] });
      await admin.locator('main.admin-view').screenshot({ path: `/tmp/admin-view-${width}.png` });
    }

    await admin.addScriptTag({ path: AXE });
    const violations = await admin.evaluate(async () => {
      const result = await (
        window as unknown as { axe: { run: (c: Document) => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
      ).axe.run(document);
      return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
    });
    expect(violations).toEqual([]);
    await admin.setViewportSize({ width: 1280, height: 800 });
  });
});
