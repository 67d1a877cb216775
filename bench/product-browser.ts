/**
 * 4b and 7: the built app in Debian's Chromium on real IndexedDB. Records are seeded in the page
 * through the app's own write path (test/e2e/seed.ts), then 4b presses "Sync now" and times until
 * the panel's pending count is 0 and PostgreSQL holds them all; 7 times a page load of the app
 * holding many local records (list's first row, first exact pending count), and 8 the Find view there.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type BrowserContext, type CDPSession } from 'playwright-core';
import { autoSyncOffBeforeStart, syncNow, waitForPending } from '../test/e2e/counter';
import { CHROMIUM, CHROMIUM_ARGS, signIn } from '../test/e2e/harness';
import { seedRecords } from '../test/e2e/seed';
import { eventually } from '../test/support/eventually';
import { measureFind, type FindResult } from './find';
import { startCpuProfile } from './page';

/** A build of the app for the benchmark alone, so a test run building dist/client is not disturbed. */
export const BENCH_CLIENT_DIST = path.resolve('dist/bench/client');

export function buildClient(): void {
  execFileSync(path.resolve('node_modules/.bin/vite'), ['build', '--outDir', BENCH_CLIENT_DIST, '--emptyOutDir', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
}

export interface Account {
  username: string;
  password: string;
  siteId: string;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A fresh browser profile (its own IndexedDB) on the app, auto sync off: only "Sync now" pushes. */
async function newProfile(browser: Browser, serverUrl: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: serverUrl, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(120_000);
  await context.addInitScript(() => {
    if (!localStorage.getItem('sems_sync_config')) {
      localStorage.setItem('sems_sync_config', JSON.stringify({ state: { enabled: false, intervalSeconds: 300 }, version: 0 }));
    }
  });
  return context;
}

/** The page's JS heap (CDP Runtime.getHeapUsage), sampled every 100 ms; peak in MB. */
function heapSampler(cdp: CDPSession) {
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      peak = Math.max(peak, usedSize);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return Math.round(peak / 2 ** 20);
    },
  };
}

const until = (what: string, check: () => Promise<boolean>, timeoutMs: number) => eventually(check, { what, timeout: timeoutMs, interval: 20 });

export interface BrowserSyncResult {
  records: number;
  seedMs: number;
  syncMs: number;
  peakHeapMb: number;
  pageErrors: string[];
}

/** 4b: N records in the page's IndexedDB, one "Sync now", until pending is 0 and PostgreSQL holds N. */
export async function browserSync(
  browser: Browser,
  opts: { serverUrl: string; databaseUrl: string; account: Account; records: number; beforeSync?: () => void; cpuProfile?: string },
): Promise<BrowserSyncResult> {
  const context = await newProfile(browser, opts.serverUrl);
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 1 });
  try {
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const seedStart = performance.now();
    await seedRecords(page, opts.records, opts.account);
    const seedMs = performance.now() - seedStart;
    // Auto sync off: a sign-in with records waiting would send them at once; this measures one "Sync now".
    await autoSyncOffBeforeStart(page);
    await page.goto('/');
    await signIn(page, opts.account);
    await waitForPending(page, opts.records, 300_000);

    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    opts.beforeSync?.();
    const heap = heapSampler(cdp);
    const stopProfile = await startCpuProfile(context, page, opts.cpuProfile);
    const start = performance.now();
    await syncNow(page);
    await waitForPending(page, 0, 600_000);
    await until(
      `${opts.records} rows in PostgreSQL`,
      async () => {
        const { rows } = await pool.query('SELECT count(*)::int AS n FROM dispenses');
        return rows[0].n === opts.records;
      },
      600_000,
    );
    const syncMs = performance.now() - start;
    await stopProfile();
    return { records: opts.records, seedMs, syncMs, peakHeapMb: await heap.stop(), pageErrors };
  } finally {
    await pool.end();
    await context.close();
  }
}

export interface LoadTimes {
  /** ms from navigation start (the page's performance.now()). */
  listMs: number;
  pendingMs: number;
  /** When the app's code had loaded and run: DOMContentLoaded, which waits for the module script. */
  appStartMs: number;
  heapMb: number;
}

export interface LocalLoadResult {
  records: number;
  seedMs: number;
  loads: LoadTimes[];
  /** Medians over the loads: from navigation start, and from app start. */
  listMs: number;
  pendingMs: number;
  listFromAppMs: number;
  pendingFromAppMs: number;
  /** 8, in the same profile: the Find view. */
  find?: FindResult;
}

/**
 * Installed before the app's scripts: a MutationObserver notes (performance.now(), i.e. ms since
 * navigation start) when the list shows its first row and when the sync summary first shows the
 * exact pending count. DOM observation, not marks: the app sets no performance marks. A string,
 * not a function: tsx's esbuild would wrap named inner functions in a helper the page lacks.
 */
function observeFirstRender(expected: number): string {
  return `(() => {
    const marks = {};
    globalThis.__benchMarks = marks;
    const observer = new MutationObserver(() => {
      if (marks.list === undefined && document.querySelector('section.recent tbody tr')) marks.list = performance.now();
      if (marks.pending === undefined) {
        const summary = document.querySelector('[data-testid="sync-summary"]')?.textContent ?? '';
        if (summary.includes('${expected} pending')) marks.pending = performance.now();
      }
      if (marks.list !== undefined && marks.pending !== undefined) observer.disconnect();
    });
    observer.observe(document, { childList: true, subtree: true, characterData: true });
  })();`;
}

/** 7: N local records, then `loads` page loads of the app, each timed from navigation start; with `find`, then 8 (bench/find.ts). */
export async function localLoad(
  browser: Browser,
  opts: { serverUrl: string; account: Account; records: number; loads?: number; find?: boolean },
): Promise<LocalLoadResult> {
  const context = await newProfile(browser, opts.serverUrl);
  try {
    const page = await context.newPage();
    const seedStart = performance.now();
    await seedRecords(page, opts.records, opts.account);
    const seedMs = performance.now() - seedStart;
    // Sign in once (the session is kept in localStorage) and let the app settle; auto sync off, so
    // the records stay pending (a start with records waiting sends them otherwise), as measured before.
    await autoSyncOffBeforeStart(page);
    await page.goto('/');
    await signIn(page, opts.account);
    await waitForPending(page, opts.records, 300_000);
    await page.close();

    await context.addInitScript(observeFirstRender(opts.records));
    const loads: LocalLoadResult['loads'] = [];
    for (let i = 0; i < (opts.loads ?? 5); i++) {
      const p = await context.newPage();
      await p.goto('/');
      await p.waitForFunction(
        () => {
          const m = (globalThis as { __benchMarks?: { list?: number; pending?: number } }).__benchMarks;
          return m?.list !== undefined && m?.pending !== undefined;
        },
        undefined,
        { timeout: 300_000, polling: 100 },
      );
      const marks = await p.evaluate(() => ({
        ...(globalThis as unknown as { __benchMarks: { list: number; pending: number } }).__benchMarks,
        appStart: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventStart,
      }));
      const cdp = await context.newCDPSession(p);
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      loads.push({ listMs: marks.list, pendingMs: marks.pending, appStartMs: marks.appStart, heapMb: Math.round(usedSize / 2 ** 20) });
      await p.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const find = opts.find ? await measureFind(context, opts.records) : undefined;
    return {
      records: opts.records,
      seedMs,
      loads,
      listMs: median(loads.map((l) => l.listMs)),
      pendingMs: median(loads.map((l) => l.pendingMs)),
      listFromAppMs: median(loads.map((l) => l.listMs - l.appStartMs)),
      pendingFromAppMs: median(loads.map((l) => l.pendingMs - l.appStartMs)),
      find,
    };
  } finally {
    await context.close();
  }
}
