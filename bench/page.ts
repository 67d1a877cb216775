/**
 * What the browser benchmarks do to a page: a CDP CPU profile around a timed step (summarised by
 * bench/cpu-profile.ts), and a new device's first pull, timed from "Sync now" to the last record written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { syncNow, waitForPending } from '../test/e2e/counter';

/** Starts a CPU profile of the page when `file` is given; the returned stop() writes it there. */
export async function startCpuProfile(context: BrowserContext, page: Page, file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return async () => {};
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(profile));
    await cdp.detach();
  };
}

/** Presses "Sync now" on a signed-in new device and waits until it holds all `records` of the site, none pending; ms. */
export async function timeFirstPull(page: Page, records: number): Promise<number> {
  const start = performance.now();
  await syncNow(page);
  await page
    .getByRole('status')
    .filter({ hasText: `All ${records.toLocaleString('en-US')} records of the site` })
    .waitFor();
  await waitForPending(page, 0, 900_000);
  return performance.now() - start;
}
