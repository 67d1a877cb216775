/**
 * The counter at a desktop's, a tablet's and a phone's width (1280, 768, 390 px), with records
 * whose every text is at its longest and unbroken: made here, refused by the server, and pulled
 * from another counter of the site (edited, then voided). Nothing runs sideways: not the page,
 * the list, the patient's history under the form, the sync panel and its refused records, nor
 * the edit, void, history and duplicate dialogs.
 */
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { Dispense } from '../../schemas/dispense';
import { push, pushBody } from '../support/api';
import { makeDispense } from '../support/records';
import { openSyncPanel, rowSync, syncNow } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';
import { fillLong, longTexts, sidewaysOverflow, unbroken, type LongTexts } from './long-text';

jest.setTimeout(120_000);

const SHOTS = process.env.E2E_SCREENSHOTS; // a folder: a picture of each screen at each width, to look at
const WIDTHS = [1280, 768, 390];
/** A colleague at another counter of the site, with the longest username there is. */
const COLLEAGUE = unbroken('pharm-', 64);

describeE2E('the counter at 1280, 768 and 390 px wide, whatever a record holds', () => {
  let e2e: E2E;
  let page: Page;
  const mine = { refused: longTexts('R1'), pending: longTexts('R2') };
  const theirs = { voided: longTexts('C1'), open: longTexts('C2') };

  /** The colleague's records, through the server's push API: one left as made, one edited and then voided. */
  async function seedColleague(): Promise<void> {
    const { token } = await e2e.server.login(COLLEAGUE);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const made = (texts: LongTexts, minutesAgo: number): Dispense =>
      makeDispense({
        ...texts,
        siteId: USER.siteId,
        dispensedBy: COLLEAGUE,
        quantity: 99999.125,
        unit: 'ml',
        dispensedAt: at(minutesAgo),
        updatedAt: at(minutesAgo),
      });
    const open = made(theirs.open, 50);
    const first = made(theirs.voided, 60);
    const edited: Dispense = { ...first, ...longTexts('C1-edited'), patientId: first.patientId, updatedAt: at(59) };
    const voided: Dispense = { ...edited, status: 'voided', voidReason: unbroken('Void-', 500), updatedAt: at(58) };
    const send = async (docs: Dispense[], assumed?: Dispense[]) => {
      const res = await push(e2e.server.url, token, pushBody(docs, assumed));
      if (res.status !== 200 || res.body.rejected.length > 0 || res.body.conflicts.length > 0) {
        throw new Error(`seeding: ${res.status} ${res.text.slice(0, 300)}`);
      }
    };
    await send([first, open]);
    await send([edited], [first]);
    await send([voided], [edited]);
  }

  const row = (texts: LongTexts) => page.getByRole('row').filter({ hasText: texts.patientId });

  beforeAll(async () => {
    e2e = await startE2E();
    await e2e.server.addUser(COLLEAGUE, USER.siteId);
    await seedColleague();
    await e2e.sql('UPDATE users SET display_name = $1 WHERE username = $2', ['Maximiliane Papadopoulou-Featherstonehaugh', USER.username]);
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto('/');
    await signIn(page); // a new device: the colleague's records arrive with the sign-in's first pull
    await row(theirs.voided).waitFor();
    await row(theirs.open).waitFor();

    // One record the server refuses, with its reason (which names a site of the longest id) in the list and the panel.
    await fillLong(page, mine.refused);
    await page.getByRole('button', { name: 'Save dispense' }).click();
    await rowSync(page, mine.refused.patientId).filter({ hasText: 'Pending' }).waitFor();
    await e2e.sql('UPDATE users SET site_id = $1 WHERE username = $2', [unbroken('SITE-', 64), USER.username]);
    await syncNow(page);
    await rowSync(page, mine.refused.patientId).filter({ hasText: 'Rejected' }).waitFor();
    await e2e.sql('UPDATE users SET site_id = $1 WHERE username = $2', [USER.siteId, USER.username]);
    await page.keyboard.press('Escape');

    // One pending; then the same patient and medication typed again: its history shows under the form.
    await fillLong(page, mine.pending);
    await page.getByRole('button', { name: 'Save dispense' }).click();
    await rowSync(page, mine.pending.patientId).filter({ hasText: 'Pending' }).waitFor();
    await fillLong(page, mine.pending);
    await page
      .getByRole('region', { name: `Recent dispenses for ${mine.pending.patientId}` })
      .getByRole('listitem')
      .first()
      .waitFor();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('the page, the list, the sync panel and every dialog stay within the window at each width', async () => {
    const found: Record<string, string[]> = {};
    const look = async (width: number, what: string) => {
      const overflow = await sidewaysOverflow(page);
      if (overflow.length > 0) found[`${width}px, ${what}`] = overflow;
      if (!SHOTS) return;
      if (what === 'counter') await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, `width-${width}-${what.replace(/\W+/g, '-')}.png`), fullPage: what === 'counter' });
    };
    /** Opens a dialog, looks, and closes it with Escape. */
    const inDialog = async (width: number, what: string, opener: Locator, name: RegExp, ready?: (dialog: Locator) => Promise<void>) => {
      await opener.click();
      const dialog = page.getByRole('dialog', { name });
      await dialog.waitFor();
      await ready?.(dialog);
      await look(width, what);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    };

    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 800 });
      await look(width, 'counter');
      const panel = await openSyncPanel(page);
      await panel.getByText(/Rejected by the server \(1\)/).waitFor();
      await look(width, 'sync panel');
      await page.keyboard.press('Escape');
      await panel.waitFor({ state: 'hidden' });

      await inDialog(width, 'edit dialog', row(mine.refused).getByRole('button', { name: /^Edit/ }), /^Edit dispense/);
      await inDialog(width, 'void dialog', row(theirs.open).getByRole('button', { name: /^Void/ }), /^Void dispense/);
      await inDialog(width, 'history dialog', row(theirs.voided).getByRole('button', { name: /^History/ }), /^History of the dispense/, (dialog) =>
        dialog.getByTestId('version').nth(2).waitFor(),
      );
      await inDialog(width, 'duplicate dialog', page.getByRole('button', { name: 'Save dispense' }), /^Possible duplicate/);
    }
    expect(found).toEqual({});
  });
});
