/**
 * Two tabs of the same browser at once: only one sends (RxDB leader election), both show the
 * truth, and no record goes to the server twice or lands twice in PostgreSQL.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { dispense, openSyncPanel, recordPushes, syncNow, waitForPending } from './counter';
import { describeE2E, signIn, startE2E, type E2E } from './harness';

describeE2E('two tabs open at the same time', () => {
  let e2e: E2E;
  let context: BrowserContext;
  let first: Page;
  let second: Page;

  beforeAll(async () => {
    e2e = await startE2E();
    context = await e2e.newContext();
    context.setDefaultTimeout(20_000);
    await context.clock.install();
    first = await context.newPage();
    await first.goto('/');
    await signIn(first);
    await (await openSyncPanel(first)).getByLabel('Sync interval').selectOption({ label: '30 seconds' });
    second = await context.newPage();
    await second.goto('/'); // signed in already: the session is shared by the browser
    await second.getByRole('heading', { name: 'New dispense' }).waitFor();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  test('records made in both tabs are pushed once each by the timer, and both tabs show 0 pending', async () => {
    const pushes = [recordPushes(first), recordPushes(second)];
    for (let i = 0; i < 3; i++) {
      await dispense(first);
      await dispense(second);
    }
    await openSyncPanel(second);
    await waitForPending(second, 6);
    expect(await second.getByLabel('Sync interval').inputValue()).toBe('30');

    // The 30-second tick comes in both tabs at once.
    await context.clock.fastForward(31_000);
    await waitForPending(first, 0);
    await waitForPending(second, 0);

    const sent = pushes.flatMap((p) => p.ids);
    expect(sent).toHaveLength(6);
    expect(new Set(sent).size).toBe(6);
    expect(pushes.filter((p) => p.rows.length > 0)).toHaveLength(1); // one tab sent, the other did not
    const [{ n }] = await e2e.sql<{ n: string }>('SELECT count(*) AS n FROM dispenses');
    const [{ a }] = await e2e.sql<{ a: string }>('SELECT count(*) AS a FROM audit_logs');
    expect([Number(n), Number(a)]).toEqual([6, 6]);
  });

  test('"Sync now" pressed in both tabs at once sends each new record once', async () => {
    const pushes = [recordPushes(first), recordPushes(second)];
    await dispense(first);
    await dispense(second);
    await Promise.all([syncNow(first), syncNow(second)]);
    await waitForPending(first, 0);
    await waitForPending(second, 0);
    const sent = pushes.flatMap((p) => p.ids);
    expect(new Set(sent).size).toBe(2);
    expect(sent).toHaveLength(2);
    const [{ n }] = await e2e.sql<{ n: string }>('SELECT count(*) AS n FROM dispenses');
    expect(Number(n)).toBe(8);
  });
});
