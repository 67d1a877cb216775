/**
 * End-to-end harness: the built client served by a real server on a fresh PostgreSQL database,
 * driven in Debian's Chromium through playwright-core, with a signed-up pharmacist and direct
 * SQL access to check what reached the database.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
/** The built client under test; E2E_CLIENT_DIST points at another build, used as it is. */
export const CLIENT_DIST = process.env.E2E_CLIENT_DIST ?? path.join(ROOT, 'dist/client');

/** True when the run was asked to leave the browser suites out (SKIP_BROWSERS=1: see test/setup.sh). */
export const skipBrowsers = Boolean(process.env.SKIP_BROWSERS);

/**
 * `describe` in a browser; skipped (and reported so) only when SKIP_BROWSERS is set. A missing
 * browser otherwise fails the suite: no suite is skipped silently.
 */
export function describeBrowser(name: string, browser: { path: string; pkg: string }, fn: () => void): void {
  if (skipBrowsers) return describe.skip(`${name} (skipped: SKIP_BROWSERS is set)`, fn);
  if (fs.existsSync(browser.path)) return describe(name, fn);
  describe(name, () => {
    test(`needs ${browser.path}`, () => {
      throw new Error(
        `${browser.path} is missing: apt-get install -y ${browser.pkg} (npm test's set-up, test/setup.sh, does it as root), or SKIP_BROWSERS=1`,
      );
    });
  });
}

/** `describe` in Chromium. */
export function describeE2E(name: string, fn: () => void): void {
  describeBrowser(name, { path: CHROMIUM, pkg: 'chromium' }, fn);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (!file.endsWith('.test.ts')) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * Builds the client when dist/client is missing or older than its sources (`npm test` builds
 * first, so this is usually a no-op). A lock directory keeps parallel test files from building at once.
 */
export async function ensureClientBuilt(): Promise<void> {
  const index = path.join(CLIENT_DIST, 'index.html');
  const lock = path.join(ROOT, 'dist/.client-build.lock');
  const sources = Math.max(newestMtime(path.join(ROOT, 'client')), newestMtime(path.join(ROOT, 'schemas')));
  const fresh = () => fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources;
  for (let waited = 0; !fresh(); waited += 500) {
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    try {
      fs.mkdirSync(lock);
    } catch {
      if (waited > 180_000) throw new Error(`Timed out waiting for another client build (${lock})`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (!fresh())
        execFileSync(path.join(ROOT, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], {
          cwd: ROOT,
          stdio: 'inherit',
          // jest sets NODE_ENV=test, which would make a development bundle; test what users get.
          env: { ...process.env, NODE_ENV: 'production' },
        });
    } finally {
      fs.rmdirSync(lock);
    }
  }
}

/** The flags every test and bench launch of Debian's Chromium uses (no background traffic on this closed network). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Chromium on a browser profile kept in `userDataDir`, as a person's browser is: closed and launched
 * again on the same folder, it has the same site data, service worker included.
 */
export function launchPersistent(userDataDir: string, url: string, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    baseURL: url,
    viewport: { width: 1280, height: 800 },
    ...options,
  });
}

export const USER = { username: 'pharm1', password: 'counter-pass-1', siteId: 'SITE-E2E' };

export interface E2E {
  server: TestServer;
  browser: Browser;
  /** Runs SQL on the test database. */
  sql: <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>;
  /** A context on the server's url; `options` add to or override it (baseURL, ignoreHTTPSErrors). */
  newContext: (options?: BrowserContextOptions) => Promise<BrowserContext>;
  close: () => Promise<void>;
}

/** `env`: extra server environment (TLS files); `args`: extra Chromium flags (host-resolver rules). */
export async function startE2E(opts: { env?: Record<string, string>; args?: string[] } = {}): Promise<E2E> {
  if (!process.env.E2E_CLIENT_DIST) await ensureClientBuilt();
  const server = await startTestServer({ CLIENT_DIST, ...opts.env });
  await server.addUser(USER.username, USER.siteId, USER.password);
  const pool = new pg.Pool({ connectionString: server.database!.url, max: 2 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...(opts.args ?? [])] });
  return {
    server,
    browser,
    sql: async (text, values) => (await pool.query(text, values)).rows,
    newContext: (options) => browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, ...options }),
    close: async () => {
      await browser.close();
      await pool.end();
      await server.stop();
    },
  };
}

/** Signs in through the form, as a person would, and waits for the counter form. */
export async function signIn(page: Page, user = USER): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'New dispense' }).waitFor();
}
