/**
 * The real browser client in Node for the fault scenarios: RxDB on fake-indexeddb (the client
 * tests' own helper), the app's startSync with its push handler, conflict rule and scheduler,
 * a fetch that reports each push (so a fault can be aimed at a batch in flight), and the
 * client's own view of what it made and what is still pending.
 */
import '../../client/local-storage';
import type { DispenseDatabase } from '../../../client/data/db';
import { createDispenses, editDispense, voidDispense } from '../../../client/data/records';
import { startSync, type SyncController, type SyncDeps } from '../../../client/sync';
import { firstValueFrom } from 'rxjs';
import { rejectedMarks$ } from '../../../client/data/marks';
import { idsAfter, idsUpTo } from '../../../client/data/rxdb';
import { storedCheckpoint } from '../../../client/sync/checkpoint';
import type { Dispense } from '../../../schemas/dispense';
import { inputFor, newBrowser, type Browser } from '../../client/support';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PushSeen {
  /** Pushes sent, and the rows in them. */
  pushes: number;
  rows: number;
  /** Pushes whose request has left and whose answer has not come. */
  inFlight: number;
  /** Statuses answered; a push that got no answer at all counts in networkErrors. */
  statuses: Map<number, number>;
  networkErrors: number;
  /** When each push left, and each 429 with its Retry-After, for the test of waiting as told. */
  timeline: { at: number; kind: 'push' | '429'; retryAfterS?: number }[];
}

export interface RxClient {
  name: string;
  browser: Browser;
  db: DispenseDatabase;
  sync: SyncController;
  seen: PushSeen;
  user: { username: string; siteId: string };
  /** Makes `n` records as the pharmacist would (numbered from `from`), in one write per 500. */
  make: (n: number, from: number) => Promise<Dispense[]>;
  /**
   * Stores records made elsewhere, as they are (a shared import on every device of a site): pending
   * as the app's own writes are.
   */
  insertAsNew: (docs: Dispense[]) => Promise<void>;
  edit: (externalId: string, notes: string) => Promise<Dispense>;
  void: (externalId: string, reason: string) => Promise<Dispense>;
  /** Records in each sync state, as the panel counts them. */
  marks: () => Promise<{ pending: number; rejected: number; synced: number }>;
  /** Records not yet answered by the server (after the push checkpoint). */
  pendingIds: () => Promise<string[]>;
  /** Records this device has confirmed as on the server (answered, and not refused). */
  syncedIds: () => Promise<string[]>;
  /** The records on this device, in their latest state. */
  records: () => Promise<Map<string, Dispense>>;
  /** Sync now until nothing is pending (bounded); returns the runs it took. */
  syncUntilDone: (deadlineMs: number) => Promise<number>;
  /** Stops sync and closes the database (kept in fake-indexeddb, so `reopen` is a page reload). */
  close: () => Promise<void>;
  /** Closes and removes the database. */
  remove: () => Promise<void>;
}

export interface RxClientOptions {
  name: string;
  baseUrl: string | (() => string);
  user: { username: string; siteId: string };
  getToken: () => string | null;
  browser?: Browser;
  batchSize?: number;
  /** Push requests per RxDB batch (the app's default when absent). */
  requestsPerBatch?: number;
  /** Called when a push leaves, with its row count; may delay it (a fault aimed at it). */
  beforePush?: (rows: number) => Promise<void> | void;
  onUnauthorized?: () => void;
}

export async function openRxClient(opts: RxClientOptions): Promise<RxClient> {
  const browser = opts.browser ?? newBrowser(`sems-faults-${process.pid}-${opts.name}-${Date.now()}`);
  const db = await browser.open();
  const seen: PushSeen = { pushes: 0, rows: 0, inFlight: 0, statuses: new Map(), networkErrors: 0, timeline: [] };
  const baseUrl = typeof opts.baseUrl === 'string' ? () => opts.baseUrl as string : opts.baseUrl;
  const watched: typeof fetch = async (url, init) => {
    const isPush = String(url).endsWith('/api/sync/dispenses/push');
    // The client is built for one origin; the test may move the server (a restart on a new port).
    const target = String(url).replace(/^https?:\/\/[^/]+/, baseUrl());
    if (!isPush) return fetch(target, init);
    const rows = (JSON.parse(String(init?.body)) as { rows: unknown[] }).rows.length;
    seen.pushes++;
    seen.rows += rows;
    await opts.beforePush?.(rows);
    seen.inFlight++;
    seen.timeline.push({ at: Date.now(), kind: 'push' });
    try {
      const res = await fetch(target, init);
      seen.statuses.set(res.status, (seen.statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) seen.timeline.push({ at: Date.now(), kind: '429', retryAfterS: Number(res.headers.get('retry-after')) });
      return res;
    } catch (err) {
      seen.networkErrors++;
      throw err;
    } finally {
      seen.inFlight--;
    }
  };
  const deps: SyncDeps = {
    baseUrl: baseUrl(),
    siteId: opts.user.siteId,
    getToken: opts.getToken,
    deviceId: `device-${opts.name}`,
    fetch: watched,
    batchSize: opts.batchSize,
    requestsPerBatch: opts.requestsPerBatch,
    onUnauthorized: opts.onUnauthorized,
    // Fast retries: the scenarios inject many failures in a short time.
    scheduler: { backoffBaseMs: 200, backoffMaxMs: 2000 },
  };
  const sync = startSync(db, deps);
  for (let t = 0; t < 200 && !db.isLeader(); t++) await sleep(25);

  // What the panel counts: records after the mirrored push checkpoint are pending; of those at or
  // before it (answered), the refused ones that still hold the refused version are rejected.
  const pendingIds = () => idsAfter(db.dispenses, storedCheckpoint(db.name));
  const rejectedIds = async () => new Set((await firstValueFrom(rejectedMarks$(db.syncmarks, db.dispenses))).map((m) => m.externalId));
  const syncedIds = async (rejected?: Set<string>) => {
    const refused = rejected ?? (await rejectedIds());
    return (await idsUpTo(db.dispenses, storedCheckpoint(db.name))).filter((id) => !refused.has(id));
  };
  const client: RxClient = {
    name: opts.name,
    browser,
    db,
    sync,
    seen,
    user: opts.user,
    async make(n, from) {
      const out: Dispense[] = [];
      for (let k = 0; k < n; k += 500) {
        const inputs = Array.from({ length: Math.min(500, n - k) }, (_, j) =>
          inputFor(from + k + j, { patientId: `PT-${opts.name}-${from + k + j}` }),
        );
        out.push(...(await createDispenses(db, inputs, opts.user)));
      }
      return out;
    },
    async insertAsNew(docs) {
      const res = await db.dispenses.bulkInsert(docs);
      if (res.error.length > 0) throw new Error(`insertAsNew: ${res.error.length} failed`);
    },
    edit: (id, notes) => editDispense(db, id, { notes }, 'Corrected at the counter'),
    void: (id, reason) => voidDispense(db, id, reason),
    async marks() {
      const rejected = await rejectedIds();
      return { pending: (await pendingIds()).length, rejected: rejected.size, synced: (await syncedIds(rejected)).length };
    },
    pendingIds,
    syncedIds: () => syncedIds(),
    records: async () => new Map((await db.dispenses.find().exec()).map((d) => [d.primary, d.toJSON() as Dispense])),
    async syncUntilDone(deadlineMs) {
      const end = Date.now() + deadlineMs;
      let runs = 0;
      while ((await client.marks()).pending > 0) {
        if (Date.now() > end) throw new Error(`${opts.name}: ${(await client.marks()).pending} records still pending at the deadline`);
        runs++;
        await sync.syncNow();
        if ((await client.marks()).pending > 0) await sleep(100);
      }
      return runs;
    },
    async close() {
      await sync.stop();
      if (!db.closed) await db.close();
    },
    async remove() {
      await sync.stop();
      if (!db.closed) await db.remove();
    },
  };
  return client;
}

/**
 * The shortest gap between a 429 and the next push of the same client, as a share of the
 * Retry-After it came with (>= 1: every one was waited out); Infinity when there was no 429.
 */
export function retryAfterRatio(seen: PushSeen): number {
  let ratio = Infinity;
  seen.timeline.forEach((e, i) => {
    if (e.kind !== '429' || !e.retryAfterS) return;
    const next = seen.timeline.slice(i + 1).find((x) => x.kind === 'push');
    if (next) ratio = Math.min(ratio, (next.at - e.at) / (e.retryAfterS * 1000));
  });
  return ratio;
}
