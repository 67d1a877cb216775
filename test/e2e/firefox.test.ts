/**
 * Opening with no network in Firefox too (pharmacies use both): Debian's firefox-esr driven by
 * puppeteer-core over WebDriver BiDi, on a profile kept on disk. After an online sign-in, a reload,
 * a new tab and a restarted browser with no network open the app with every record; back online,
 * each record reaches PostgreSQL once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { storedOnce } from './app-shell';
import { entry, type Entry } from './counter';
import { describeBrowser, startE2E, USER, type E2E } from './harness';

const FIREFOX = '/usr/bin/firefox-esr';
const describeFirefox = (name: string, fn: () => void) => describeBrowser(name, { path: FIREFOX, pkg: 'firefox-esr' }, fn);

const rowsWith = (page: Page, ids: string[]) =>
  page.waitForFunction(
    (wanted: string[]) => {
      const text = [...document.querySelectorAll('tbody tr')].map((r) => r.textContent ?? '');
      return document.querySelector('#new-dispense-title') !== null && wanted.every((id) => text.some((t) => t.includes(id)));
    },
    { timeout: 20_000 },
    ids,
  );

/** Fills the new-dispense form and saves with Enter, as a pharmacist does; waits for its row. */
async function dispense(page: Page, e: Entry): Promise<Entry> {
  await page.locator('#new-patientId').fill(e.patientId);
  await page.locator('#new-medicationCode').fill(e.medicationCode);
  await page.locator('#new-medicationName').fill(e.medicationName);
  await page.locator('#new-quantity').fill(e.quantity);
  await page.select('#new-unit', e.unit);
  await page.focus('#new-medicationName');
  await page.keyboard.press('Enter');
  await rowsWith(page, [e.patientId]);
  return e;
}

/** Whether the page can reach the server (it must not, while "offline"). */
const reachesServer = (page: Page) =>
  page.evaluate(() =>
    fetch('/api/health', { cache: 'no-store' }).then(
      () => true,
      () => false,
    ),
  );

const pendingCount = (page: Page) => page.$eval('[data-testid="pending-count"]', (el) => el.textContent);

describeFirefox('opening the app with no network (Firefox ESR over WebDriver BiDi)', () => {
  let e2e: E2E;
  let profile: string;
  let browser: Browser | null = null;

  const launch = () =>
    puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      defaultViewport: { width: 1280, height: 800 },
    });

  /** A tab with no network from its first request, as after a restart during an outage. */
  async function offlineTab(): Promise<Page> {
    const page = await browser!.newPage();
    await page.setOfflineMode(true);
    await page.goto(e2e.server.url);
    return page;
  }

  beforeAll(async () => {
    e2e = await startE2E();
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-firefox-'));
  });
  afterAll(async () => {
    await browser?.close();
    await e2e?.close();
    fs.rmSync(profile, { recursive: true, force: true });
  });

  test('reload, a new tab and a restarted Firefox open with every record; back online each record reaches PostgreSQL once', async () => {
    const made: Entry[] = [];
    browser = await launch();
    const page = await browser.newPage();
    await page.goto(e2e.server.url);
    await page.locator('#username').fill(USER.username);
    await page.locator('#password').fill(USER.password);
    await page.locator('button[type="submit"]').click();
    await page.waitForSelector('#new-dispense-title');
    await page.waitForFunction(
      async () => {
        const registration = await navigator.serviceWorker.ready;
        return registration.active?.state === 'activated' && navigator.serviceWorker.controller !== null;
      },
      { timeout: 20_000 },
    );
    await page.select('#sync-interval', '30'); // the timer sends the records later, by itself
    made.push(await dispense(page, entry({ patientId: 'FF-OFF-1' })));

    await page.setOfflineMode(true);
    await page.reload();
    await rowsWith(
      page,
      made.map((e) => e.patientId),
    );
    expect(await reachesServer(page)).toBe(false); // the page came from the service worker
    made.push(await dispense(page, entry({ patientId: 'FF-OFF-2' })));

    const tab = await offlineTab();
    await rowsWith(
      tab,
      made.map((e) => e.patientId),
    );
    made.push(await dispense(tab, entry({ patientId: 'FF-OFF-3' })));
    await tab.close();

    await browser.close();
    browser = await launch();
    const again = await offlineTab();
    await rowsWith(
      again,
      made.map((e) => e.patientId),
    );
    expect(await reachesServer(again)).toBe(false);
    made.push(await dispense(again, entry({ patientId: 'FF-OFF-4' })));
    await again.waitForFunction(() => document.querySelector('[data-testid="pending-count"]')?.textContent === '4');
    expect(await storedOnce(e2e, made)).toEqual([]);

    await again.setOfflineMode(false);
    await again.waitForFunction(() => document.querySelector('[data-testid="pending-count"]')?.textContent === '0', { timeout: 60_000 });
    expect(await pendingCount(again)).toBe('0');
    expect(await storedOnce(e2e, made)).toEqual(made.map((e) => ({ patient_id: e.patientId, rows: 1, audits: 1 })));
  }, 150_000);
});
