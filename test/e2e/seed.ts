/** Puts many records in a browser's local database before the app opens (see seed-entry.ts). */
import path from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';

/** What seed-entry.ts puts on the page. */
type SeedFn = (count: number, user: { username: string; siteId: string }, dbName?: string, prefix?: string) => Promise<void>;

let bundle: Promise<string> | null = null;

function seedBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [path.join(__dirname, 'seed-entry.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  }).then((r) => r.outputFiles[0].text);
  return bundle;
}

/**
 * Opens a same-origin page that is not the app (the health endpoint), writes `count` records
 * there with the app's own code, and leaves. The next `page.goto('/')` finds them on the device:
 * in the user's site database, or in the database `opts.dbName` (an earlier version's layout).
 */
export async function seedRecords(
  page: Page,
  count: number,
  user: { username: string; siteId: string },
  opts: { dbName?: string; prefix?: string } = {},
): Promise<void> {
  const code = await seedBundle();
  await page.goto('/api/health');
  await page.evaluate(code); // evaluate is not subject to the page's Content-Security-Policy
  await page.evaluate(({ count, user, opts }) => (globalThis as unknown as { semsSeed: SeedFn }).semsSeed(count, user, opts.dbName, opts.prefix), {
    count,
    user,
    opts,
  });
}

/** RxDB bulkInsert of `count` records in chunks of `chunk` in the page, no network: milliseconds (bench/pull.ts). */
export async function bulkInsertCeiling(page: Page, count: number, chunk: number, user: { username: string; siteId: string }): Promise<number> {
  const code = await seedBundle();
  await page.goto('/api/health');
  await page.evaluate(code);
  return page.evaluate(
    ({ count, chunk, user }) =>
      (globalThis as unknown as { semsBulkInsertCeiling: (n: number, c: number, u: typeof user) => Promise<number> }).semsBulkInsertCeiling(
        count,
        chunk,
        user,
      ),
    { count, chunk, user },
  );
}
