/**
 * 8: the Find view with many local records, in Chromium, in part 7's browser profile (its records
 * seeded through the app's own code). Timed in the page: from the click on "Find" to its first
 * answer on screen (the device's record index read from IndexedDB, the first page of records
 * read and shown), then each keystroke typed into the search, one at a time, from its input
 * event to the answer for it on screen (the results' `data-answered` names the search it
 * answers). Also the page's heap before and after the index (after a garbage collection).
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface FindResult {
  records: number;
  /** ms from the click on "Find" to its first answer on screen. */
  firstLoadMs: number;
  /** ms from each keystroke to its answer on screen. */
  keystrokes: number[];
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The page's JS heap before the index was read and after, MB (after a GC each). */
  heapBeforeMb: number;
  heapAfterMb: number;
}

/** What is typed, in order: [field label, text]; '' clears the field (one keystroke: select all, Backspace). */
const TYPED: [string, string][] = [
  ['Patient ID or name', 'seed-04217'],
  ['Patient ID or name', ''],
  ['Medication code or name', 'med17'],
  ['Patient ID or name', '99999'],
  ['Medication code or name', ''],
  ['Patient ID or name', ''],
  ['Medication code or name', 'metformin'],
  ['Medication code or name', ''],
];
const ROUNDS = 3;

/**
 * Installed in the page: the time of the click on the Find tab, of each input event (with the
 * field's value), and of each answer shown (the search it answers, read from `data-answered`).
 * A string, not a function: tsx's esbuild would wrap named inner functions in a helper the page lacks.
 */
const INSTRUMENT = `(() => {
  const t = { click: null, inputs: [], answers: [] };
  globalThis.__findTimes = t;
  document.addEventListener('click', (e) => {
    if (t.click === null && e.target instanceof Element && e.target.closest('nav.view-bar button')?.textContent === 'Find') t.click = performance.now();
  }, true);
  document.addEventListener('input', (e) => t.inputs.push({ at: performance.now(), value: e.target.value }), true);
  new MutationObserver((changes) => {
    for (const c of changes) {
      const key = c.target.getAttribute?.('data-answered');
      if (c.attributeName === 'data-answered' && key) t.answers.push({ at: performance.now(), fields: JSON.parse(key.slice(0, key.lastIndexOf('#'))) });
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-answered'] });
})();`;

interface Times {
  click: number | null;
  inputs: { at: number; value: string }[];
  answers: { at: number; fields: Record<string, unknown> }[];
}

const times = (page: Page) => page.evaluate(() => (globalThis as unknown as { __findTimes: Times }).__findTimes);

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return Math.round(usedSize / 2 ** 20);
}

/** Waits until the page shows the answer to the search `fields` (some of its fields) and returns when. */
async function answered(page: Page, fields: Record<string, string>, after: number): Promise<number> {
  const handle = await page.waitForFunction(
    ({ fields, after }) => {
      const t = (globalThis as unknown as { __findTimes: Times }).__findTimes;
      const a = t.answers.find((x) => x.at >= after && Object.entries(fields).every(([k, v]) => x.fields[k] === v));
      return a ? a.at : null;
    },
    { fields, after },
    { timeout: 120_000, polling: 'raf' },
  );
  return (await handle.jsonValue()) as number;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

export async function measureFind(context: BrowserContext, records: number): Promise<FindResult> {
  await context.addInitScript(INSTRUMENT);
  const page = await context.newPage();
  try {
    await page.goto('/');
    await page.locator('section.recent tbody tr').first().waitFor({ timeout: 300_000 });
    const heapBeforeMb = await heapMb(page);
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Find', exact: true }).click();
    const first = await answered(page, { patient: '' }, 0);
    const firstLoadMs = first - (await times(page)).click!;
    const heapAfterMb = await heapMb(page);

    const search = page.getByRole('search', { name: 'Find a record' });
    const fields: Record<string, string> = { patient: '', medication: '' };
    const keyOf = (label: string) => (label.startsWith('Patient') ? 'patient' : 'medication');
    const keystrokes: number[] = [];
    const key = async (label: string, press: () => Promise<void>, value: string) => {
      const before = (await times(page)).inputs.length;
      await press();
      fields[keyOf(label)] = value;
      const input = await page.waitForFunction((n) => (globalThis as unknown as { __findTimes: Times }).__findTimes.inputs[n]?.at ?? null, before, {
        polling: 'raf',
      });
      const at = (await input.jsonValue()) as number;
      keystrokes.push((await answered(page, { ...fields }, at)) - at);
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [label, text] of TYPED) {
        const box = search.getByLabel(label);
        await box.focus();
        if (text === '') {
          await page.keyboard.press('ControlOrMeta+A');
          await key(label, () => page.keyboard.press('Backspace'), '');
          continue;
        }
        for (let i = 1; i <= text.length; i++) await key(label, () => page.keyboard.type(text[i - 1]), text.slice(0, i));
      }
    }
    return {
      records,
      firstLoadMs,
      keystrokes,
      p50Ms: percentile(keystrokes, 50),
      p95Ms: percentile(keystrokes, 95),
      maxMs: Math.max(...keystrokes),
      heapBeforeMb,
      heapAfterMb,
    };
  } finally {
    await page.close();
  }
}
