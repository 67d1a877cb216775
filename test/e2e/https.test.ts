/**
 * Deployed on a pharmacy's network, in Chromium: the name `pharmacy-lan` resolves to this machine
 * (a host-resolver rule), so the origin is not localhost. Over HTTPS with a self-signed certificate
 * made here, and over plain http, where the app must still load, work online and say that offline
 * start needs https.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, syncNow, waitForPending } from './counter';
import { makeCertificate } from '../support/certificate';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

const LAN_NAME = 'pharmacy-lan';
const RESOLVE_LAN_NAME = `--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`;
const NOTICE = { name: 'Not served over https' };

/** Page errors and failed requests: a blocked script or stylesheet would show here. */
function watchFailures(page: Page): string[] {
  const failures: string[] = [];
  page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => failures.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  return failures;
}

/** Signs in, records one dispense, presses "Sync now", and returns how often it is in PostgreSQL. */
async function recordAndSync(e2e: E2E, page: Page): Promise<number> {
  await signIn(page).catch(async (err: Error) => {
    // Say what the page shows instead of the counter (e.g. the local database failed to open).
    throw new Error(`${err.message}\nThe page shows: ${(await page.locator('body').innerText()).slice(0, 600)}`);
  });
  const made = await dispense(page);
  await syncNow(page);
  await waitForPending(page, 0);
  const rows = await e2e.sql<{ n: number }>('SELECT count(*)::int AS n FROM dispenses WHERE patient_id = $1', [made.patientId]);
  return rows[0].n;
}

describeE2E('over HTTPS on a pharmacy network name, with a self-signed certificate', () => {
  let dir: string;
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  let failures: string[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-e2e-tls-'));
    const { cert, key } = makeCertificate(dir, 'server', LAN_NAME);
    e2e = await startE2E({ env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key, HTTP_REDIRECT_PORT: '0' }, args: [RESOLVE_LAN_NAME] });
    context = await e2e.newContext({ baseURL: `https://${LAN_NAME}:${e2e.server.port}`, ignoreHTTPSErrors: true });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    failures = watchFailures(page);
  });
  afterAll(async () => {
    await e2e?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('opened as http:// on the redirect port, the browser lands on https: a secure context, with no plain-http notice', async () => {
    await page.goto(`http://${LAN_NAME}:${e2e.server.redirectPort}/`);
    expect(page.url()).toBe(`https://${LAN_NAME}:${e2e.server.port}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
    expect(await page.getByRole('note', NOTICE).count()).toBe(0);
    expect(failures).toEqual([]);
  });

  test('sign in, record a dispense, Sync now: the record is in PostgreSQL exactly once', async () => {
    expect(await recordAndSync(e2e, page)).toBe(1);
    expect(await e2e.sql('SELECT 1 FROM dispenses')).toHaveLength(1);
    expect(failures).toEqual([]);
  });
});

describeE2E('over plain http on a pharmacy network name', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let page: Page;
  let failures: string[];

  beforeAll(async () => {
    e2e = await startE2E({ args: [RESOLVE_LAN_NAME] });
    context = await e2e.newContext({ baseURL: `http://${LAN_NAME}:${e2e.server.port}` });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    failures = watchFailures(page);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('the app loads (no script or stylesheet is upgraded to https) and says offline start needs https', async () => {
    await page.goto('/');
    expect(page.url()).toBe(`http://${LAN_NAME}:${e2e.server.port}/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    // Styles applied: the sign-in screen is laid out by the stylesheet, not shown unstyled.
    expect(await page.locator('.sign-in').evaluate((el) => getComputedStyle(el).display)).toBe('grid');
    await expect(page.getByRole('note', NOTICE).textContent()).resolves.toMatch(
      /served over plain http: it works online, but offline start is unavailable until it is served over https/,
    );
    expect(failures).toEqual([]);
  });

  test('sign in, record a dispense, Sync now: the record is in PostgreSQL exactly once, and the notice stays in the workspace', async () => {
    expect(await recordAndSync(e2e, page)).toBe(1);
    expect(await e2e.sql('SELECT 1 FROM dispenses')).toHaveLength(1);
    await page.getByRole('note', NOTICE).waitFor();
    expect(failures).toEqual([]);
  });
});
