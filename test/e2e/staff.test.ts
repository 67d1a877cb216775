/**
 * The Staff tab and access that ends, in the built app in Chromium: a site admin adds a person
 * with a temporary password, who must choose their own at the first sign-in (a weak one refused in
 * words); the admin disables them while they are signed in, and their tab is signed out at its
 * next request with the reason; sign-out ends the token on the server. The tab passes axe and
 * scrolls sideways at no width.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { seedUsers } from '../support/users';
import { dispense, entry, rowSync, signOut, syncNow } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

jest.setTimeout(180_000);

const ADMIN = { username: 'admin1', password: 'admin-pass-1', siteId: USER.siteId };
const NEWBIE = { username: 'newbie', password: 'given-by-admin-7', siteId: USER.siteId };

describeE2E('the Staff tab and access that ends', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];
  let admin: Page;

  const open = async () => {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/');
    return page;
  };
  const staffTab = async (page: Page) => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Staff' }).click();
    await page.getByRole('table', { name: 'Staff' }).waitFor();
  };
  const rowOf = (page: Page, username: string) => page.getByRole('table', { name: 'Staff' }).locator(`tr[data-username="${username}"]`);

  beforeAll(async () => {
    e2e = await startE2E();
    await seedUsers(e2e.server.db, [{ username: ADMIN.username, siteId: ADMIN.siteId, role: 'admin', password: ADMIN.password }]);
    admin = await open();
    await signIn(admin, ADMIN);
    await staffTab(admin);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });

  test('the admin adds a person; their first sign-in asks for their own password, refuses a weak one in words, then opens the counter', async () => {
    const form = admin.getByRole('form', { name: 'Add a person' });
    await form.getByLabel('Username').fill(NEWBIE.username);
    await form.getByLabel('Full name (optional)').fill('Nia Newcomer');
    await form.getByLabel('Temporary password').fill('password123');
    await form.getByRole('button', { name: 'Add person' }).click();
    await form.getByRole('alert').filter({ hasText: 'commonly used' }).waitFor();
    await form.getByLabel('Temporary password').fill(NEWBIE.password);
    await form.getByRole('button', { name: 'Add person' }).click();
    await form.getByRole('status').filter({ hasText: 'Added Nia Newcomer' }).waitFor();
    await rowOf(admin, NEWBIE.username).getByText('Must choose a password').waitFor();
    // The admin's own row cannot be disabled or demoted.
    expect(
      await rowOf(admin, ADMIN.username)
        .getByRole('button', { name: `Disable ${ADMIN.username}` })
        .isDisabled(),
    ).toBe(true);
    expect(
      await rowOf(admin, ADMIN.username)
        .getByRole('button', { name: `Make pharmacist ${ADMIN.username}` })
        .isDisabled(),
    ).toBe(true);

    const page = await open();
    await page.getByLabel('Username').fill(NEWBIE.username);
    await page.getByLabel('Password').fill(NEWBIE.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const change = page.getByRole('form', { name: 'Choose your own password' });
    await change.waitFor();
    await change.getByLabel('Password you were given').fill(NEWBIE.password);
    await change.getByLabel('New password', { exact: true }).fill('newbie');
    await change.getByLabel('New password again').fill('newbie');
    await change.getByRole('button', { name: 'Save my password' }).click();
    await change.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor();
    if (process.env.STAFF_SCREENSHOT) await page.screenshot({ path: path.join(process.env.STAFF_SCREENSHOT, 'staff-password-change.png') });
    await change.getByLabel('New password', { exact: true }).fill('my own quiet river');
    await change.getByLabel('New password again').fill('my own quiet river');
    await change.getByRole('button', { name: 'Save my password' }).click();
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    const [row] = await e2e.sql<{ must_change_password: boolean }>('SELECT must_change_password FROM users WHERE username = $1', [NEWBIE.username]);
    expect(row.must_change_password).toBe(false);
    await page.context().close();
  });

  test("disabled by the admin while signed in, the person's tab is signed out at its next request with the reason in words; the record they left is sent by the next user of that counter, and the device then refuses them offline", async () => {
    const page = await open();
    // Signed in online with "Remember me": this device keeps a verifier to sign them in offline.
    await page.getByLabel('Username').fill(NEWBIE.username);
    await page.getByLabel('Password').fill('my own quiet river');
    await page.getByLabel(/Remember me on this device/).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    const verifierOf = (username: string) =>
      page.evaluate((name) => Boolean(JSON.parse(localStorage.getItem('sems_offline_accounts') ?? '{}').state?.accounts?.[name]), username);
    expect(await verifierOf(NEWBIE.username)).toBe(true);
    // A dispense made before the disable, left pending on this counter.
    const left = await dispense(page, entry({ patientId: 'P-LEFT-1', patientName: 'Left Pending' }));
    await admin.reload();
    await staffTab(admin);
    await rowOf(admin, NEWBIE.username)
      .getByRole('button', { name: `Disable ${NEWBIE.username}` })
      .click();
    await rowOf(admin, NEWBIE.username).getByText('Disabled').waitFor();

    await syncNow(page);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByText("Your account was disabled by the site's admin.").waitFor();
    // Its right password is refused too, in the same words.
    await page.getByLabel('Username').fill(NEWBIE.username);
    await page.getByLabel('Password').fill('my own quiet river');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: "Your account was disabled by the site's admin." }).waitFor();
    // The admin log says who did it.
    await admin.getByRole('list', { name: 'Admin log entries' }).getByText(`disabled ${NEWBIE.username}`).waitFor();

    // The next pharmacist of the site at this counter signs in: the record left pending is sent at
    // once (auto sync is on), under its maker's name; the server's answer drops the verifier.
    await signIn(page, USER);
    await rowSync(page, left.patientId).filter({ hasText: 'Synced' }).waitFor();
    expect(await e2e.sql('SELECT dispensed_by FROM dispenses WHERE patient_id = $1', [left.patientId])).toEqual([{ dispensed_by: NEWBIE.username }]);
    await page.waitForFunction((name) => !JSON.parse(localStorage.getItem('sems_offline_accounts') ?? '{}').state?.accounts?.[name], NEWBIE.username);
    await signOut(page);

    // With no network, the disabled person cannot sign in on this device any more.
    await page.context().setOffline(true);
    await page.getByLabel('Username').fill(NEWBIE.username);
    await page.getByLabel('Password').fill('my own quiet river');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('heading', { name: 'New dispense' }).count()).toBe(0);
    await page.context().setOffline(false);
  });

  test('sign-out ends the token on the server, not only in the browser', async () => {
    const page = await open();
    await signIn(page);
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('sems_session')!).state.token as string);
    await page.getByRole('button', { name: 'Sign out' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await fetch(`${e2e.server.url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
  });

  test('the Staff tab has no accessibility violations (axe) and scrolls sideways at no width', async () => {
    await admin.reload();
    await staffTab(admin);
    // Evaluated through the devtools protocol: the app's CSP (rightly) refuses an injected script tag.
    await admin.evaluate(fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await admin.evaluate(async () => {
      const result = await (
        window as unknown as { axe: { run: (ctx: unknown) => Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }
      ).axe.run(document.querySelector('main.staff'));
      return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
    });
    expect(violations).toEqual([]);
    for (const width of [1280, 768, 390]) {
      await admin.setViewportSize({ width, height: 800 });
      const sideways = await admin.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
      // STAFF_SCREENSHOT=<folder>: what the tab looks like at each width, to look at.
      if (process.env.STAFF_SCREENSHOT)
        await admin.screenshot({ path: path.join(process.env.STAFF_SCREENSHOT, `staff-${width}.png`), fullPage: true });
      expect({ width, sideways }).toEqual({ width, sideways: false });
    }
    await admin.setViewportSize({ width: 1280, height: 800 });
  });
});
