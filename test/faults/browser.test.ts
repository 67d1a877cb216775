/**
 * Scenario 8, in the browser (Chromium, the built app, a real server and PostgreSQL): a reload
 * in the middle of a sync, and the leader tab closed in the middle of a sync while another tab
 * is open. In both, the batch in flight is committed by the server and its answer never reaches
 * the page (the worst moment). Nothing may be lost or stored twice, and the sync must resume
 * from its checkpoint rather than start again.
 */
import type { BrowserContext, Page, Route } from 'playwright-core';
import { autoSyncOffBeforeStart, openSyncPanel, syncNow, waitForPending } from '../e2e/counter';
import { describeE2E, signIn, startE2E, USER, type E2E } from '../e2e/harness';
import { seedRecords } from '../e2e/seed';
import { DEFAULT_BATCH_SIZE, DEFAULT_REQUESTS_PER_BATCH } from '../../client/sync/replication';
import { inspectDatabase, recordCounts } from '../support/inspect';
import { report, scaled, since } from './support/results';

const BATCH = DEFAULT_BATCH_SIZE; // the app's rows per push request
/** RxDB's first batch is the sync's first persistence task; the records after it make a second. */
const FIRST_TASK = DEFAULT_REQUESTS_PER_BATCH * BATCH;
const RECORDS = Math.max(FIRST_TASK + 2 * BATCH, scaled(FIRST_TASK + 2 * BATCH)); // per part
/** The push whose answer is held back: the first of the second persistence task. */
const CUT_AT = DEFAULT_REQUESTS_PER_BATCH + 1;

interface Wire {
  /** Ids of every push row that left the browser, in order. */
  sent: string[];
  /** Ids of the pushes whose answer reached the page. */
  answered: Set<string>;
  fiveXx: number;
}

/**
 * Routes the pushes of a browser context through the test: each is forwarded to the server;
 * the `cutAt`-th is answered by the server (committed) but its answer is held back and the
 * returned promise resolves, so the test can reload or close the page before it arrives.
 */
async function interceptPushes(context: BrowserContext, wire: Wire, cutAt: number): Promise<{ cut: Promise<void> }> {
  let n = 0;
  let cut!: () => void;
  const cutReached = new Promise<void>((resolve) => (cut = resolve));
  await context.route('**/api/sync/dispenses/push', async (route: Route) => {
    const ids = (route.request().postDataJSON() as { rows: { newDocumentState: { externalId: string } }[] }).rows.map(
      (r) => r.newDocumentState.externalId,
    );
    wire.sent.push(...ids);
    const mine = ++n; // pushes overlap: RxDB has several batches in flight
    const response = await route.fetch();
    if (response.status() >= 500) wire.fiveXx++;
    if (mine === cutAt) {
      cut(); // committed on the server; the page will never see this answer
      return;
    }
    try {
      await route.fulfill({ response });
      ids.forEach((id) => wire.answered.add(id));
    } catch {
      // the page went away meanwhile
    }
  });
  return { cut: cutReached };
}

async function counts(e2e: E2E): Promise<{ rows: number; audit: number }> {
  const { records: rows, audit } = await recordCounts(e2e.server.database!.url);
  return { rows, audit };
}

describeE2E('Scenario 8: a browser reloaded or its leader tab closed in the middle of a sync', () => {
  let e2e: E2E;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    e2e = await startE2E();
  }, 300_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await e2e?.close();
  });

  async function newDevice(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await e2e.newContext();
    contexts.push(context);
    context.setDefaultTimeout(60_000);
    const page = await context.newPage();
    await seedRecords(page, RECORDS, USER);
    await autoSyncOffBeforeStart(page); // the records wait for the scenario's "Sync now"
    await page.goto('/');
    await signIn(page);
    await waitForPending(page, RECORDS);
    return { context, page };
  }

  test(`a reload while a batch's answer is on its way: all ${RECORDS} records land once, the sync resumes from its checkpoint`, async () => {
    const started = Date.now();
    const before = await counts(e2e);
    const { context, page } = await newDevice();
    const wire: Wire = { sent: [], answered: new Set(), fiveXx: 0 };
    const { cut } = await interceptPushes(context, wire, CUT_AT);
    await syncNow(page);
    await cut;
    const sentBeforeReload = wire.sent.length;
    const answeredBeforeReload = new Set(wire.answered);
    await page.reload();
    await page.getByRole('heading', { name: 'New dispense' }).waitFor(); // still signed in
    const pendingAfterReload = Number(await (await openSyncPanel(page)).getByTestId('pending-count').textContent());
    await syncNow(page);
    await waitForPending(page, 0, 120_000);

    const after = await counts(e2e);
    const found = await inspectDatabase(e2e.server.database!.url);
    const resentAnswered = wire.sent.slice(sentBeforeReload).filter((id) => answeredBeforeReload.has(id)).length;
    const sentTwice = wire.sent.length - new Set(wire.sent).size;
    await report({
      id: '8a',
      scenario: 'Browser: reload in the middle of a sync (Chromium)',
      records: RECORDS,
      faults: '1 reload with a committed batch unanswered',
      faultCount: 1,
      lost: RECORDS - (after.rows - before.rows),
      duplicated: found.duplicated,
      http5xx: wire.fiveXx,
      invalidStored: found.invalid.length + found.invalidAudit,
      auditRows: after.audit - before.audit,
      auditExpected: RECORDS,
      seconds: since(started),
      notes: `${wire.sent.length} rows sent for ${RECORDS} records: ${sentTwice} sent again after the reload (the unanswered batch, and ${resentAnswered} answered rows of its persistence task), written 0 times; ${pendingAfterReload} pending after the reload`,
    });

    expect(after.rows - before.rows).toBe(RECORDS);
    expect(after.audit - before.audit).toBe(RECORDS); // the re-sent batch wrote nothing
    expect(found.duplicated).toBe(0);
    expect(found.invalid).toEqual([]);
    expect(found.auditChainBreaks).toEqual([]);
    expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
    expect(wire.fiveXx).toBe(0);
    // Resumed from the checkpoint, not restarted: of what was answered before, only requests of
    // the persistence task the reload interrupted go again (RxDB stores a checkpoint per task of
    // up to four of its batches); the first task, answered, is not sent again.
    expect(resentAnswered).toBeLessThanOrEqual(3 * BATCH);
    expect(wire.sent.slice(sentBeforeReload)).not.toContain(wire.sent[0]);
    expect(wire.sent.length).toBeLessThan(2 * RECORDS);
  }, 300_000);

  test(`the leader tab closed while a batch's answer is on its way: the other tab takes over and all ${RECORDS} records land once`, async () => {
    const started = Date.now();
    const before = await counts(e2e);
    const { context, page: leader } = await newDevice();
    const other = await context.newPage();
    await other.goto('/'); // the same browser: signed in already, same local database
    await other.getByRole('heading', { name: 'New dispense' }).waitFor();
    await waitForPending(other, RECORDS);
    const wire: Wire = { sent: [], answered: new Set(), fiveXx: 0 };
    const pushesFrom = new Map<Page, number>([
      [leader, 0],
      [other, 0],
    ]);
    for (const p of [leader, other])
      p.on('request', (r) => r.url().endsWith('/api/sync/dispenses/push') && pushesFrom.set(p, pushesFrom.get(p)! + 1));
    const { cut } = await interceptPushes(context, wire, CUT_AT);

    await syncNow(leader);
    await cut;
    expect(pushesFrom.get(leader)).toBeGreaterThan(0); // the first tab led
    expect(pushesFrom.get(other)).toBe(0);
    const sentBeforeClose = wire.sent.length;
    const answeredBeforeClose = new Set(wire.answered);
    await leader.close();

    // The other tab becomes the leader and finishes the sync.
    await syncNow(other);
    await waitForPending(other, 0, 120_000);

    const after = await counts(e2e);
    const found = await inspectDatabase(e2e.server.database!.url);
    const resentAnswered = wire.sent.slice(sentBeforeClose).filter((id) => answeredBeforeClose.has(id)).length;
    const sentTwice = wire.sent.length - new Set(wire.sent).size;
    await report({
      id: '8b',
      scenario: 'Browser: leader tab closed in the middle of a sync, second tab open (Chromium)',
      records: RECORDS,
      faults: '1 leader tab closed with a committed batch unanswered',
      faultCount: 1,
      lost: RECORDS - (after.rows - before.rows),
      duplicated: found.duplicated,
      http5xx: wire.fiveXx,
      invalidStored: found.invalid.length + found.invalidAudit,
      auditRows: after.audit - before.audit,
      auditExpected: RECORDS,
      seconds: since(started),
      notes: `${wire.sent.length} rows sent for ${RECORDS} records: ${sentTwice} sent again by the second tab (the unanswered batch, and ${resentAnswered} answered rows of its persistence task), written 0 times; pushes by the closed tab ${pushesFrom.get(leader)}, by the second ${pushesFrom.get(other)}`,
    });

    expect(pushesFrom.get(other)).toBeGreaterThan(0);
    expect(after.rows - before.rows).toBe(RECORDS);
    expect(after.audit - before.audit).toBe(RECORDS);
    expect(found.duplicated).toBe(0);
    expect(found.invalid).toEqual([]);
    expect(found.auditChainBreaks).toEqual([]);
    expect(found.siteCountsOff).toEqual([]); // the sites' record counts the push keeps
    expect(wire.fiveXx).toBe(0);
    expect(resentAnswered).toBeLessThanOrEqual(3 * BATCH); // as after a reload
    expect(wire.sent.slice(sentBeforeClose)).not.toContain(wire.sent[0]);
    expect(wire.sent.length).toBeLessThan(2 * RECORDS);
  }, 300_000);
});
