/**
 * Two counters of one site, each its own browser: what one records, the other shows after its
 * sync, with who dispensed it; an edit on the second reaches the first; another site's browser
 * gets nothing; both editing one record offline end with the version the rule keeps, and the
 * losing version is kept on its device, shown in History and applied again on request. Each record
 * reaches PostgreSQL once.
 */
import type { Page } from 'playwright-core';
import { dispense, entry, openSyncPanel, rowSync, syncNow, waitForPending, type Entry } from './counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from './harness';

// A pull may wait for another suite's transactions to end (see syncUntil): room for that.
jest.setTimeout(180_000);

const colleague = { username: 'pharm2', password: 'counter-pass-2', siteId: USER.siteId };
const stranger = { username: 'other1', password: 'other-pass-123', siteId: 'SITE-ELSEWHERE' };

describeE2E('two counters of one site', () => {
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E();
    await e2e.server.addUser(colleague.username, colleague.siteId, colleague.password);
    await e2e.server.addUser(stranger.username, stranger.siteId, stranger.password);
  });
  afterAll(async () => {
    await e2e?.close();
  });

  async function counter(user: typeof USER): Promise<Page> {
    const context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto('/');
    await signIn(page, user);
    return page;
  }

  /**
   * "Sync now" until the row shows: a pull sees a change once every older transaction of the
   * database server has ended (docs/decisions/pull-checkpoint.md), which under a busy test
   * machine can take another run.
   */
  async function syncUntilShown(page: Page, patientId: string, text: string | RegExp): Promise<void> {
    const row = page.getByRole('row').filter({ hasText: patientId }).filter({ hasText: text });
    for (const end = Date.now() + 60_000; Date.now() < end;) {
      await syncNow(page);
      if (
        await row
          .first()
          .isVisible()
          .catch(() => false)
      )
        return;
      await page.waitForTimeout(300);
    }
    await row.first().waitFor({ timeout: 1000 });
  }

  /** A record made at `first`, sent, and shown at `second` after its sync. */
  async function madeAndSeen(first: Page, second: Page, fields: Partial<Entry>): Promise<Entry> {
    const made = await dispense(first, entry(fields));
    await syncNow(first);
    await waitForPending(first, 0);
    await syncUntilShown(second, made.patientId, `by ${USER.username}`);
    return made;
  }

  /** Changes the record's quantity at `page`: the edit is then pending there. */
  async function editQuantity(page: Page, made: Entry, quantity: string): Promise<void> {
    await page.getByRole('button', { name: `Edit dispense for ${made.patientName} (${made.patientId})` }).click();
    const dialog = page.getByRole('dialog', { name: /Edit dispense/ });
    await dialog.getByLabel('Quantity').fill(quantity);
    await dialog.getByLabel('Reason for the change').fill('Quantity corrected');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await waitForPending(page, 1);
  }

  test("a record made at one counter shows at the other, with who made it; the other's edit comes back; another site sees none", async () => {
    const first = await counter(USER);
    const second = await counter(colleague);
    const elsewhere = await counter(stranger);

    const made = await madeAndSeen(first, second, { patientId: 'PULL-P1', patientName: 'Ines Duarte', quantity: '21' });
    await waitForPending(second, 0); // pulled records are not pending
    expect(await second.getByTestId('sync-summary').textContent()).not.toMatch(/pending/);
    await rowSync(second, made.patientId).filter({ hasText: 'Synced' }).waitFor();

    await editQuantity(second, made, '28');
    await syncNow(second);
    await waitForPending(second, 0);
    await syncUntilShown(first, made.patientId, '28 capsule');
    await waitForPending(first, 0);

    await syncNow(elsewhere);
    await elsewhere.getByText('No dispenses on this device yet.').waitFor();
    expect(await elsewhere.locator('main').textContent()).not.toMatch(/PULL-P1|Ines/);

    const rows = await e2e.sql<{ quantity: number; dispensed_by: string }>('SELECT quantity, dispensed_by FROM dispenses WHERE patient_id = $1', [
      made.patientId,
    ]);
    expect(rows).toEqual([{ quantity: 28, dispensed_by: USER.username }]);
    const audit = await e2e.sql<{ action: string; actor: string }>(
      'SELECT a.action, a.actor FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = $1 ORDER BY a.id',
      [made.patientId],
    );
    expect(audit).toEqual([
      { action: 'create', actor: USER.username },
      { action: 'update', actor: colleague.username },
    ]);
  });

  test('the other counter is warned before dispensing the same medication to the same patient again, and the confirmation is kept', async () => {
    const first = await counter(USER);
    const second = await counter(colleague);
    const made = await madeAndSeen(first, second, { patientId: 'DUP-P1', patientName: 'Noor Haddad', medicationCode: 'AMOX500' });

    // Typing the patient id shows the patient's recent dispenses at the site.
    const form = second.getByRole('form', { name: 'New dispense' });
    await form.getByLabel('Patient ID').fill(made.patientId);
    await second
      .getByRole('region', { name: `Recent dispenses for ${made.patientId}` })
      .getByText(/Amoxicillin/)
      .first()
      .waitFor();

    // Another medication for the same patient: no warning.
    await dispense(
      second,
      entry({ patientId: made.patientId, medicationCode: 'MET500', medicationName: 'Metformin 500 mg tablets', unit: 'tablet' }),
    );
    expect(await second.getByRole('dialog', { name: 'Possible duplicate dispense' }).count()).toBe(0);

    // The same medication: warned; "Go back" saves nothing, "Dispense anyway" saves who confirmed it and when.
    const again = entry({ patientId: made.patientId, medicationCode: 'AMOX500' });
    const fill = async () => {
      await form.getByLabel('Patient ID').fill(again.patientId);
      await form.getByLabel('Medication code').fill(again.medicationCode);
      await form.getByLabel('Medication name').fill(again.medicationName);
      await form.getByLabel('Quantity').fill(again.quantity);
      await form.getByLabel('Unit').selectOption(again.unit);
      await form.getByLabel('Medication name').press('Enter');
    };
    await fill();
    const warning = second.getByRole('dialog', { name: 'Possible duplicate dispense' });
    await warning.getByText(`by ${USER.username}`).waitFor();
    await warning.getByRole('button', { name: 'Go back' }).click();
    await warning.waitFor({ state: 'detached' });
    await waitForPending(second, 1); // only the metformin
    await form.getByRole('button', { name: 'Save dispense' }).click(); // the same entry, still in the form
    await warning.getByRole('button', { name: 'Dispense anyway' }).click();
    await waitForPending(second, 2);
    await syncNow(second);
    await waitForPending(second, 0);

    const rows = await e2e.sql<{
      medication_code: string;
      dispensed_by: string;
      notes: string | null;
      duplicate_confirmed_by: string | null;
      duplicate_confirmed_at: Date | null;
    }>(
      'SELECT medication_code, dispensed_by, notes, duplicate_confirmed_by, duplicate_confirmed_at FROM dispenses WHERE patient_id = $1 ORDER BY medication_code, dispensed_by',
      [made.patientId],
    );
    expect(rows.map((r) => [r.medication_code, r.dispensed_by])).toEqual(
      expect.arrayContaining([
        ['AMOX500', USER.username],
        ['MET500', colleague.username],
        ['AMOX500', colleague.username],
      ]),
    );
    expect(rows).toHaveLength(3);
    const confirmed = rows.find((r) => r.dispensed_by === colleague.username && r.medication_code === 'AMOX500')!;
    expect(confirmed).toMatchObject({ notes: null, duplicate_confirmed_by: colleague.username, duplicate_confirmed_at: expect.any(Date) });
    expect(rows.filter((r) => r.duplicate_confirmed_by !== null)).toHaveLength(1);
  });

  test('both counters edit one record offline: each ends with the version the rule keeps (the later edit), and the audit trail holds both edits in order', async () => {
    const first = await counter(USER);
    const second = await counter(colleague);
    const made = await madeAndSeen(first, second, { patientId: 'OFF-P1', patientName: 'Tomas Lind', quantity: '21' });
    // Both offline; the first counter edits, then the second (later).
    await first.context().setOffline(true);
    await second.context().setOffline(true);
    await editQuantity(first, made, '28');
    await first.waitForTimeout(20); // a later updatedAt for the second edit, whatever the clocks' resolution
    await editQuantity(second, made, '14');

    // Back online, the first counter syncs first: its edit is written; then the second's meets
    // it as a conflict, wins by the later updatedAt and is written over it.
    // The second stays offline until the first has synced: back online, a counter may run at once
    // (a run owed while offline), which would send the edits in the other order.
    await first.context().setOffline(false);
    await syncNow(first);
    await waitForPending(first, 0);
    await second.context().setOffline(false);
    await syncNow(second);
    await waitForPending(second, 0);
    await syncUntilShown(first, made.patientId, '14 capsule');
    await second.getByRole('row').filter({ hasText: made.patientId }).filter({ hasText: '14 capsule' }).first().waitFor();

    expect(await e2e.sql('SELECT quantity FROM dispenses WHERE patient_id = $1', [made.patientId])).toEqual([{ quantity: 14 }]);
    const audit = await e2e.sql<{ action: string; actor: string; before: number | null; after: number }>(
      `SELECT a.action, a.actor, (a.before->>'quantity')::int AS before, (a.after->>'quantity')::int AS after
       FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = $1 ORDER BY a.id`,
      [made.patientId],
    );
    expect(audit).toEqual([
      { action: 'create', actor: USER.username, before: null, after: 21 },
      { action: 'update', actor: USER.username, before: 21, after: 28 },
      { action: 'update', actor: colleague.username, before: 28, after: 14 },
    ]);
  });

  test('an offline edit that loses to a later one is kept on its device (after a reload too), shown in History as not on the server, and applying it again sends it', async () => {
    const first = await counter(USER);
    const second = await counter(colleague);
    const made = await madeAndSeen(first, second, { patientId: 'LOST-P1', patientName: 'Aiko Tanaka', quantity: '21' });
    // The second counter edits offline; the first edits later, online, and syncs.
    await second.context().setOffline(true);
    await editQuantity(second, made, '35');
    await first.waitForTimeout(20); // a later updatedAt for the first counter's edit, whatever the clocks' resolution
    await editQuantity(first, made, '25');
    await syncNow(first);
    await waitForPending(first, 0);
    await second.context().setOffline(false);
    await syncNow(second);
    await waitForPending(second, 0);

    // The second counter shows the server's version, and says where its own is.
    const row = second.getByRole('row').filter({ hasText: made.patientId });
    await row.filter({ hasText: '25 capsule' }).filter({ hasText: "This device's version is kept: see History" }).waitFor();
    // The panel says where it is until it is applied or discarded (the run's result said so too, until the next run).
    const panel = await openSyncPanel(second);
    await panel
      .getByTestId('kept-count')
      .filter({ hasText: /^1 record with this device's version, .* see the record's History/ })
      .waitFor();
    await second.reload();
    await row.getByRole('button', { name: /^History of dispense/ }).click();
    const history = second.getByRole('dialog', { name: /History of the dispense for Aiko Tanaka/ });
    const kept = history.getByTestId('kept-version');
    await kept.getByRole('heading', { name: "This device's version: not on the server" }).waitFor();
    const changes = (await kept.getByRole('table').locator('tbody tr').allInnerTexts()).map((t) => t.split('\t').map((c) => c.trim()));
    expect(changes).toEqual([['Quantity', '25', '35']]);
    await history.getByTestId('version').nth(1).waitFor(); // the server's: created, then the first counter's edit only
    expect(await history.getByTestId('version').count()).toBe(2);
    expect(await history.textContent()).not.toMatch(/updatedAt|siteId|externalId/);
    await second.screenshot({ path: '/tmp/history-kept-version.png' });

    // Applied again: a new edit, sent by the next sync.
    await kept.getByRole('button', { name: 'Apply this version again' }).click();
    await kept.waitFor({ state: 'detached' });
    await history.getByRole('button', { name: 'Close' }).click();
    await waitForPending(second, 1);
    await syncNow(second);
    await waitForPending(second, 0);
    expect(await e2e.sql('SELECT quantity FROM dispenses WHERE patient_id = $1', [made.patientId])).toEqual([{ quantity: 35 }]);
    const audit = await e2e.sql<{ actor: string; before: number; after: number }>(
      `SELECT a.actor, (a.before->>'quantity')::int AS before, (a.after->>'quantity')::int AS after
       FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.patient_id = $1 AND a.action = 'update' ORDER BY a.id`,
      [made.patientId],
    );
    expect(audit).toEqual([
      { actor: USER.username, before: 21, after: 25 },
      { actor: colleague.username, before: 25, after: 35 },
    ]);
    await row.filter({ hasText: '35 capsule' }).waitFor();
    expect(await row.textContent()).not.toMatch(/version is kept/);
    expect(await (await openSyncPanel(second)).getByTestId('kept-count').count()).toBe(0);
  });
});
