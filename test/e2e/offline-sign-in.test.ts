/**
 * Signing in with no network: a user who signed in online on
 * this device (and chose "Remember me") signs in against the device's verifier and records; wrong
 * passwords are refused and lock; a user this device does not know is refused and told why; past
 * the server's limit it is refused; back online, the app asks for the password, gets a real token,
 * and the records made offline reach PostgreSQL once.
 */
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expectWorkspaceWith, storedOnce, waitForAppShell } from './app-shell';
import { dispense, entry, openSyncPanel, signOut, waitForPending, type Entry } from './counter';
import { describeE2E, startE2E, USER, type E2E } from './harness';

const NEVER_HERE = { username: 'pharm2-never-here', password: 'never-here-pass-1', siteId: USER.siteId };
const SHOTS = process.env.E2E_SCREENSHOTS; // a folder: pictures of the screens, to look at

async function fillSignIn(page: Page, username: string, password: string, remember = false): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const box = page.getByLabel(/^Remember me on this device/);
  if (remember) await box.check();
  else if (await box.count()) await box.uncheck(); // absent where offline sign-in is (plain http)
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Tries a sign-in that must be refused; returns the sentence under the form. */
async function refusedSignIn(page: Page, username: string, password: string): Promise<string> {
  const alert = page.getByRole('form', { name: 'Sign in' }).getByRole('alert');
  const before = (await alert.count()) ? await alert.textContent() : null;
  await fillSignIn(page, username, password);
  await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
  await page.waitForFunction((prev) => {
    const el = document.querySelector('form[aria-labelledby="sign-in-title"] [role="alert"]');
    return el !== null && el.textContent !== prev;
  }, before);
  return (await alert.textContent()) ?? '';
}

describeE2E('signing in with no network', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];

  async function newPage(): Promise<Page> {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    contexts.push(context);
    const page = await context.newPage();
    await page.clock.install();
    await page.goto('/');
    return page;
  }

  beforeAll(async () => {
    e2e = await startE2E();
    await e2e.server.addUser(NEVER_HERE.username, NEVER_HERE.siteId, NEVER_HERE.password);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await e2e?.close();
  });

  /** Signs in online with "Remember me", signs out, goes offline and reloads: the sign-in screen with no network. */
  async function rememberedThenOffline(page: Page, made: Entry[] = []): Promise<void> {
    await fillSignIn(page, USER.username, USER.password, true);
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    await waitForAppShell(page);
    made.push(await dispense(page, entry()));
    await signOut(page);
    await page.context().setOffline(true);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByTestId('offline-sign-in-note').waitFor();
  }

  test('a remembered user signs in offline and records; strangers are refused; online again it asks for the password and the records reach PostgreSQL once', async () => {
    const page = await newPage();
    const context = page.context();
    const made: Entry[] = [];
    await rememberedThenOffline(page, made);

    // Users this device does not know: refused, and told why. A wrong password: refused.
    expect(await refusedSignIn(page, 'nobody', 'whatever-pass')).toMatch(/"nobody" has not signed in online on this device/);
    expect(await refusedSignIn(page, NEVER_HERE.username, NEVER_HERE.password)).toMatch(/has not signed in online on this device/);
    expect(await refusedSignIn(page, USER.username, 'wrong-pass-123')).toMatch(/Wrong password\. 4 more tries/);

    // The right password, offline: the workspace with the record made before, and recording works.
    await fillSignIn(page, USER.username, USER.password);
    await expectWorkspaceWith(page, made);
    await page.getByTestId('offline-session').getByText('Signed in on this device only').waitFor();
    made.push(await dispense(page, entry()));
    made.push(await dispense(page, entry()));
    const panel = await openSyncPanel(page);
    expect(await panel.getByTestId('needs-online-sign-in').textContent()).toMatch(/an online sign-in is needed before anything is sent/);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'offline-sign-in.png') });
    expect(await storedOnce(e2e, made)).toEqual([]);

    // A reload keeps the offline session.
    await page.reload();
    await expectWorkspaceWith(page, made);

    // The network is back: the app asks for the password, and with a real token the records go.
    await context.setOffline(false);
    const banner = page.getByTestId('offline-session');
    await banner.getByLabel('Password for online sign-in').fill(USER.password);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'offline-sign-in-renew.png') });
    await banner.getByRole('button', { name: 'Sign in online' }).click();
    await banner.waitFor({ state: 'detached' });
    await waitForPending(page, 0);
    expect(await storedOnce(e2e, made)).toEqual(made.map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })));
    const by = await e2e.sql<{ dispensed_by: string }>('SELECT DISTINCT dispensed_by FROM dispenses WHERE patient_id = ANY($1)', [
      made.map((e) => e.patientId),
    ]);
    expect(by).toEqual([{ dispensed_by: USER.username }]);
  });

  // The page's clock moves here (no record is made after it: the server refuses records from the future).
  test('five wrong passwords offline lock sign-in on the device for 15 minutes; past the limit since the last online sign-in it is refused', async () => {
    const page = await newPage();
    await rememberedThenOffline(page);
    for (const left of [4, 3, 2, 1]) {
      expect(await refusedSignIn(page, USER.username, 'wrong-pass-123')).toMatch(new RegExp(`Wrong password\\. ${left} more tr`));
    }
    expect(await refusedSignIn(page, USER.username, 'wrong-pass-123')).toMatch(/Too many wrong passwords on this device: try again in 15 minutes/);
    expect(await refusedSignIn(page, USER.username, USER.password)).toMatch(/Too many wrong passwords on this device\. Try again in/);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'offline-sign-in-locked.png') });
    await page.clock.fastForward('16:00');
    await fillSignIn(page, USER.username, USER.password);
    await page.getByTestId('offline-session').getByText('Signed in on this device only').waitFor();

    // Past the server's limit (7 days) since the last online sign-in here: refused.
    await signOut(page);
    await page.clock.fastForward(7 * 24 * 3600 * 1000);
    expect(await refusedSignIn(page, USER.username, USER.password)).toMatch(/allowed for 7 days after the last online sign-in on this device/);
  });

  test('a user who signed out without "Remember me" cannot sign in offline afterwards', async () => {
    const page = await newPage();
    await fillSignIn(page, USER.username, USER.password, false);
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    await waitForAppShell(page);
    await signOut(page);
    await page.context().setOffline(true);
    await page.reload();
    expect(await refusedSignIn(page, USER.username, USER.password)).toMatch(
      /has not signed in online on this device \(or signed out without "Remember me on this device"\)/,
    );
  });
});

describeE2E('signing in with no network, on plain http (not a secure context)', () => {
  const LAN_NAME = 'pharmacy-lan';
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E({ args: [`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`] });
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('there is no verifier to keep and no offline start, and the app says that signing in without the network needs https', async () => {
    const context = await e2e.newContext({ baseURL: `http://${LAN_NAME}:${e2e.server.port}` });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto('/');
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    expect(await page.getByLabel(/^Remember me on this device/).count()).toBe(0);
    await page.getByLabel('Username').fill(USER.username);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'New dispense' }).waitFor();
    expect(await (await openSyncPanel(page)).getByTestId('offline-start').textContent()).toBe('unavailable: the app is not served over https');
    await signOut(page);

    await context.setOffline(true);
    await page.getByTestId('offline-sign-in-note').filter({ hasText: 'needs the app served over https' }).waitFor();
    expect(await refusedSignIn(page, USER.username, USER.password)).toMatch(/Signing in without the network needs the app served over https/);
    await context.close();
  });
});
