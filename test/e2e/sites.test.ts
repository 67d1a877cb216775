/**
 * One browser, several sites and users: each site's records live in the site's own database on
 * the device, are shown only to its users, are pushed only with a token of its users, and reach
 * PostgreSQL once each. Records made by the build before site scoping move to their sites.
 */
import type { BrowserContext, Page } from 'playwright-core';
import {
  autoSyncOffBeforeStart,
  dispense,
  entry,
  openSyncPanel,
  recordPushes,
  recordRefusals,
  rowSync,
  signOut,
  syncNow,
  waitForPending,
} from './counter';
import { describeE2E, signIn, startE2E, type E2E } from './harness';
import { seedRecords } from './seed';

const alice = { username: 'alice-s1', password: 'alice-pass-123', siteId: 'SITE-ONE' };
const carol = { username: 'carol-s1', password: 'carol-pass-123', siteId: 'SITE-ONE' };
const bob = { username: 'bob-s2', password: 'bob-pass-1234', siteId: 'SITE-TWO' };

describeE2E('a browser shared by sites and users', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];

  async function newPage(): Promise<Page> {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/');
    return page;
  }

  async function autoSyncOff(page: Page): Promise<void> {
    await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).uncheck();
  }

  /** Rows and audit rows in PostgreSQL of the patients whose id starts with `prefix`. */
  async function stored(prefix: string) {
    return e2e.sql<{ patient_id: string; site_id: string; dispensed_by: string; actors: string[] }>(
      `SELECT d.patient_id, d.site_id, d.dispensed_by, array_agg(a.actor ORDER BY a.id) AS actors
         FROM dispenses d JOIN audit_logs a ON a.entity_id = d.external_id
        WHERE d.patient_id LIKE $1 GROUP BY d.external_id ORDER BY d.patient_id`,
      [`${prefix}%`],
    );
  }

  beforeAll(async () => {
    e2e = await startE2E();
    for (const u of [alice, carol, bob]) await e2e.server.addUser(u.username, u.siteId, u.password);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await e2e?.close();
  });

  test("a user of another site never sees a site's patients, never pushes its records, and they go once their site signs in again", async () => {
    const page = await newPage();
    const pushes = recordPushes(page);
    const refused = recordRefusals(page);

    // Alice (site one) turns auto sync off, records a dispense and signs out.
    await signIn(page, alice);
    await autoSyncOff(page);
    const hers = await dispense(page, entry({ patientId: 'TWO-SITES-A1', patientName: 'Ayesha Siddiqui' }));
    await signOut(page);
    await page.getByText('1 record is still on this device and will be sent after the next sign-in of a user of site SITE-ONE').waitFor();

    // Bob (site two) on the same browser: his site's own, empty, records; auto sync as a new site's.
    await signIn(page, bob);
    await page.getByText('No dispenses on this device yet.').waitFor();
    expect(await page.locator('body').textContent()).not.toMatch(/TWO-SITES-A1|Ayesha/);
    expect(await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).isChecked()).toBe(true);
    await waitForPending(page, 0);
    const his = await dispense(page, entry({ patientId: 'TWO-SITES-B1', patientName: 'Bruno Keller' }));
    await syncNow(page);
    await waitForPending(page, 0);
    expect(pushes.ids).toHaveLength(1); // Bob's record only
    expect(await stored('TWO-SITES-')).toEqual([
      { patient_id: his.patientId, site_id: bob.siteId, dispensed_by: bob.username, actors: [bob.username] },
    ]);
    await signOut(page);

    // Alice again: her record is there, pending, not rejected; Bob's patient is not.
    await signIn(page, alice);
    await rowSync(page, hers.patientId).filter({ hasText: 'Pending' }).waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/TWO-SITES-B1|Bruno/);
    expect(await (await openSyncPanel(page)).getByRole('switch', { name: 'Auto sync' }).isChecked()).toBe(false); // her site's setting
    await waitForPending(page, 1);
    await syncNow(page);
    await waitForPending(page, 0);
    await rowSync(page, hers.patientId).filter({ hasText: 'Synced' }).waitFor();

    expect(refused).toEqual([]);
    expect(pushes.ids).toHaveLength(2);
    expect(new Set(pushes.ids).size).toBe(2);
    expect(await stored('TWO-SITES-')).toEqual([
      { patient_id: hers.patientId, site_id: alice.siteId, dispensed_by: alice.username, actors: [alice.username] },
      { patient_id: his.patientId, site_id: bob.siteId, dispensed_by: bob.username, actors: [bob.username] },
    ]);
  });

  test("another tab of the browser follows a sign-in of another site at once, and its sync never sends the first site's records", async () => {
    const first = await newPage();
    await signIn(first, alice);
    await autoSyncOff(first);
    const hers = await dispense(first, entry({ patientId: 'TABS-A1', patientName: 'Hana Sato' }));
    const second = await first.context().newPage();
    await second.goto('/'); // signed in already: the session is the browser's
    await rowSync(second, hers.patientId).filter({ hasText: 'Pending' }).waitFor();
    const pushes = [recordPushes(first), recordPushes(second)];
    const refused = [recordRefusals(first), recordRefusals(second)];

    await signOut(second);
    await first.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(second, bob);
    await first.getByRole('heading', { name: 'New dispense' }).waitFor(); // the first tab follows
    // The list of the new site's database, read: empty, or the records a sign-in of a busy site pulls at once.
    await first.locator('.recent').getByText('Opening the records on this device').waitFor({ state: 'detached' });
    await first.locator('.recent table, .recent .empty').first().waitFor();
    expect(await first.locator('main').textContent()).not.toMatch(/TABS-A1|Hana/);
    await syncNow(first);
    await syncNow(second);
    await waitForPending(first, 0);
    expect(pushes.flatMap((p) => p.ids)).toEqual([]);

    await signOut(first);
    await signIn(first, alice);
    await second.getByRole('heading', { name: 'New dispense' }).waitFor();
    await syncNow(second);
    await waitForPending(first, 0);
    await waitForPending(second, 0);
    expect(refused.flat()).toEqual([]);
    expect(pushes.flatMap((p) => p.ids)).toHaveLength(1);
    expect(await stored('TABS-')).toEqual([
      { patient_id: hers.patientId, site_id: alice.siteId, dispensed_by: alice.username, actors: [alice.username] },
    ]);
  });

  test("two pharmacists of one site share its records: a colleague's record is pushed under the other's token and keeps its dispenser", async () => {
    const page = await newPage();
    await signIn(page, alice);
    await autoSyncOff(page);
    const made = await dispense(page, entry({ patientId: 'ONE-SITE-A1' }));
    await signOut(page);

    await signIn(page, carol);
    await rowSync(page, made.patientId).filter({ hasText: 'Pending' }).waitFor();
    await syncNow(page);
    await waitForPending(page, 0);
    // The record is Alice's; the audit row says Carol's session pushed it.
    expect(await stored('ONE-SITE-')).toEqual([
      { patient_id: made.patientId, site_id: alice.siteId, dispensed_by: alice.username, actors: [carol.username] },
    ]);
  });

  test("signing out offers to remove the site's data only when nothing is unsent; removing it leaves nothing of the site on the device", async () => {
    const page = await newPage();
    await signIn(page, carol);
    await autoSyncOff(page);
    const made = await dispense(page, entry({ patientId: 'REMOVE-C1' }));

    // One record waiting: the dialog says so and offers no removal.
    await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign out' });
    await dialog
      .getByTestId('sign-out-summary')
      .filter({ hasText: '1 record made here has not reached the server (1 waiting to be sent)' })
      .waitFor();
    expect(await dialog.getByRole('button', { name: /remove/ }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await syncNow(page);
    await waitForPending(page, 0);
    await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
    await dialog.getByTestId('sign-out-summary').filter({ hasText: 'Every record made on this device has reached the server.' }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await signOut(page, true);
    await page.getByText('The records of site SITE-ONE were removed from this device. The server keeps them.').waitFor();
    const left = await page.evaluate(async () => ({
      databases: (await indexedDB.databases()).map((d) => d.name).filter((n) => n?.includes('sems-site-')),
      keys: Object.keys(localStorage).filter((k) => k.includes('SITE-ONE') || k.includes('_s_i_t_e-_o_n_e')),
    }));
    expect(left).toEqual({ databases: [], keys: [] });

    await signIn(page, carol);
    await page.getByText('No dispenses on this device yet.').waitFor();
    expect(await stored('REMOVE-')).toEqual([
      { patient_id: made.patientId, site_id: carol.siteId, dispensed_by: carol.username, actors: [carol.username] },
    ]);
  });

  test('records of the build before site scoping move to their own sites and each reaches PostgreSQL once', async () => {
    const page = await newPage();
    // The old build's single database, with records of both sites, and Alice still signed in.
    await seedRecords(page, 3, alice, { dbName: 'sems-dispense', prefix: 'UPGRADE-A' });
    await seedRecords(page, 2, bob, { dbName: 'sems-dispense', prefix: 'UPGRADE-B' });
    await autoSyncOffBeforeStart(page); // each site's records stay pending until the test's "Sync now"
    const session = await e2e.server.login(alice.username, alice.password);
    await page.evaluate((state) => localStorage.setItem('sems_session', JSON.stringify({ state, version: 0 })), {
      token: session.token,
      expiresAt: session.expiresAt,
      user: session.user,
    });
    const pushes = recordPushes(page);

    await page.goto('/');
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    await waitForPending(page, 3);
    expect(await page.locator('main').textContent()).not.toMatch(/UPGRADE-B/);
    await syncNow(page);
    await waitForPending(page, 0);
    await signOut(page);
    await signIn(page, bob);
    await waitForPending(page, 2);
    expect(await page.locator('main').textContent()).not.toMatch(/UPGRADE-A/);
    await syncNow(page);
    await waitForPending(page, 0);

    expect(new Set(pushes.ids).size).toBe(pushes.ids.length);
    const rows = await stored('UPGRADE-');
    expect(rows.map((r) => [r.patient_id.slice(0, 9), r.site_id, r.actors.length])).toEqual([
      ...Array(3).fill(['UPGRADE-A', alice.siteId, 1]),
      ...Array(2).fill(['UPGRADE-B', bob.siteId, 1]),
    ]);
    // The old database is gone once every site's records have left it.
    const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    expect(names.filter((n) => n?.includes('-sems-dispense--'))).toEqual([]);
  });
});
