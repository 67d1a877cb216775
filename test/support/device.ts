/**
 * The one in-process device of the tests and benchmarks: RxDB on fake-indexeddb (one IndexedDB per
 * browser profile, so a reload reopens it), the browser's localStorage for zustand's persist, the
 * app's startSync with its push handler, conflict rule and scheduler, a fetch that reports each
 * push (so a fault can be aimed at a batch in flight), this device's reports to the server as
 * events, and the device's own view of what it made and what is still pending.
 */
import './local-storage';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { firstValueFrom } from 'rxjs';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { openDispenseDatabase, type DispenseDatabase } from '../../client/data/db';
import { rejectedMarks$ } from '../../client/data/marks';
import { createDispenses, editDispense, voidDispense, type DispenseInput } from '../../client/data/records';
import { countAfter, idsAfter, idsUpTo } from '../../client/data/rxdb';
import { startSync, type SyncController, type SyncDeps } from '../../client/sync';
import { storedCheckpoint, type PushCheckpoint } from '../../client/sync/checkpoint';
import type { Dispense } from '../../schemas/dispense';
import { eventually } from './eventually';
import { speedUpFakeIndexedDbCursors } from './fake-indexeddb-cursor';
import { makeDispense } from './records';

speedUpFakeIndexedDbCursors();

export interface Browser {
  indexedDB: IDBFactory;
  /** RxDB's Dexie storage on this profile's IndexedDB (to open other databases on it). */
  storage: ReturnType<typeof getRxStorageDexie>;
  /** A page load on the same IndexedDB. */
  open: () => Promise<DispenseDatabase>;
}

let browsers = 0;

/** A browser profile: each open() is a page load on the same IndexedDB. */
export function newBrowser(name = `sems-test-${process.pid}-${++browsers}`, opts: { devMode?: boolean } = {}): Browser {
  const indexedDB = new IDBFactory();
  const storage = getRxStorageDexie({ indexedDB, IDBKeyRange });
  return {
    indexedDB,
    storage,
    open: () => openDispenseDatabase(name, { storage, devMode: opts.devMode ?? process.env.DEVMODE !== '0' }),
  };
}

/** What a pharmacist types for record `i`. */
export function inputFor(i: number, overrides: Partial<DispenseInput> = {}): DispenseInput {
  const {
    externalId: _a,
    siteId: _b,
    dispensedBy: _c,
    status: _d,
    voidReason: _e,
    updatedAt: _f,
    ...input
  } = makeDispense({ siteId: 'x', dispensedBy: 'x' }, i) as Dispense;
  return { ...input, ...overrides };
}

/** Resolves once `sync`'s tab leads and its sync is set up (its "Sync now" runs here). */
export async function waitForLeader(sync: SyncController, timeoutMs = 30_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
  const led = await Promise.race([sync.leading, late]).finally(() => clearTimeout(timer));
  if (led !== true) throw new Error(led === 'late' ? `no leadership within ${timeoutMs} ms` : 'the sync stopped before it led');
}

// A device's report goes through the global fetch (it is no part of a run): watched here, by the
// device id it carries, so a test can wait for a report instead of sleeping past its timer.
type ReportWatch = { before?: () => Promise<void> | void; sent: number; answered: number; onAnswer: Set<() => void> };
const reportWatches = new Map<string, ReportWatch>();
const REPORT_PATH = '/api/sync/devices/report';
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const watch = String(input).includes(REPORT_PATH) ? reportWatches.get(new Headers(init?.headers).get('x-device-id') ?? '') : undefined;
  if (!watch) return realFetch(input, init);
  watch.sent++;
  try {
    await watch.before?.();
    return await realFetch(input, init);
  } finally {
    watch.answered++;
    watch.onAnswer.forEach((f) => f());
  }
};

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

export interface Device {
  name: string;
  browser: Browser;
  db: DispenseDatabase;
  sync: SyncController;
  seen: PushSeen;
  user: { username: string; siteId: string };
  /** This device's reports to the server: sent, and answered (or failed). */
  reports: { readonly sent: number; readonly answered: number };
  /** Resolves when a report of this device that leaves after this call has been answered. */
  nextReport: (timeoutMs?: number) => Promise<void>;
  /** One run, as "Sync now" starts it. */
  syncNow: () => Promise<void>;
  /** Makes `n` records as the pharmacist would (numbered from `from`), in one write per 500. */
  make: (n: number, from: number) => Promise<Dispense[]>;
  /** Stores records made elsewhere, as they are (a shared import on every device of a site): pending as the app's own writes are. */
  insertAsNew: (docs: Dispense[]) => Promise<void>;
  edit: (externalId: string, notes: string) => Promise<Dispense>;
  void: (externalId: string, reason: string) => Promise<Dispense>;
  /** One record as the device holds it now. */
  get: (externalId: string) => Promise<Dispense | undefined>;
  /** Records in each sync state, as the panel counts them. */
  marks: () => Promise<{ pending: number; rejected: number; synced: number }>;
  /** RxDB's push checkpoint as the device mirrors it (it moves once a pushed batch is noted as the server's). */
  pushCheckpoint: () => PushCheckpoint | null;
  /** The pending count as the panel has it, read now (the live count may not have caught up with a write yet). */
  pending: () => Promise<number>;
  /** Records not yet answered by the server (after the push checkpoint). */
  pendingIds: () => Promise<string[]>;
  /** Records this device has confirmed as on the server (answered, and not refused). */
  syncedIds: () => Promise<string[]>;
  /** The records on this device, in their latest state. */
  records: () => Promise<Map<string, Dispense>>;
  /** Sync now until nothing is pending (bounded); returns the runs it took. */
  syncUntilDone: (deadlineMs: number) => Promise<number>;
  /**
   * Sync now until `check` holds. A pull sees a change once every transaction older than it has
   * ended, in the whole PostgreSQL cluster (docs/decisions/pull-checkpoint.md): with other test
   * files pushing at the same time, that can take another run.
   */
  syncUntil: (what: string, check: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
  /** Stops sync and closes the database (kept in fake-indexeddb, so reopening it is a page reload). */
  close: () => Promise<void>;
  /** Closes and removes the database. */
  remove: () => Promise<void>;
}

export interface DeviceOptions {
  name: string;
  baseUrl: string | (() => string);
  user: { username: string; siteId: string };
  getToken: () => string | null;
  browser?: Browser;
  /** The device id it reports with (default `device-<name>`). */
  deviceId?: string;
  /** The fetch under the push watch (a fault aimed at other requests); the global one by default. */
  fetch?: typeof fetch;
  /** Called when a push leaves, with its row count; may delay it (a fault aimed at it). */
  beforePush?: (rows: number) => Promise<void> | void;
  /** false: requests go out unwatched (`seen` stays empty), as a benchmark times them. */
  watchPushes?: boolean;
  /** Called when a report of this device leaves; may hold it. */
  beforeReport?: () => Promise<void> | void;
  /** Waits until this tab leads (default true). */
  lead?: boolean;
  /** Fast retries by default: the fault scenarios inject many failures in a short time. */
  scheduler?: SyncDeps['scheduler'];
  batchSize?: number;
  /** Push requests per RxDB batch (the app's default when absent). */
  requestsPerBatch?: number;
  pullBatchSize?: number;
  runTimeoutMs?: number;
  onUnauthorized?: SyncDeps['onUnauthorized'];
}

/** Opens the device's database (a new browser profile unless given), starts its sync, and waits until it leads. */
export async function openDevice(opts: DeviceOptions): Promise<Device> {
  const browser = opts.browser ?? newBrowser(`sems-device-${process.pid}-${opts.name}-${++browsers}`);
  const db = await browser.open();
  return startDevice(db, browser, opts);
}

/** A device on a database already open (a test that made records before the sync started). */
export async function startDevice(db: DispenseDatabase, browser: Browser, opts: DeviceOptions): Promise<Device> {
  const seen: PushSeen = { pushes: 0, rows: 0, inFlight: 0, statuses: new Map(), networkErrors: 0, timeline: [] };
  const baseUrl = typeof opts.baseUrl === 'string' ? () => opts.baseUrl as string : opts.baseUrl;
  const via = opts.fetch ?? ((input, init) => fetch(input, init));
  const watched: typeof fetch = async (url, init) => {
    const isPush = String(url).endsWith('/api/sync/dispenses/push');
    // The client is built for one origin; the test may move the server (a restart on a new port).
    const target = String(url).replace(/^https?:\/\/[^/]+/, baseUrl());
    if (!isPush) return via(target, init);
    const rows = (JSON.parse(String(init?.body)) as { rows: unknown[] }).rows.length;
    seen.pushes++;
    seen.rows += rows;
    await opts.beforePush?.(rows);
    seen.inFlight++;
    seen.timeline.push({ at: Date.now(), kind: 'push' });
    try {
      const res = await via(target, init);
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
  const deviceId = opts.deviceId ?? `device-${opts.name}`;
  const watch: ReportWatch = { before: opts.beforeReport, sent: 0, answered: 0, onAnswer: new Set() };
  reportWatches.set(deviceId, watch);
  const sync = startSync(db, {
    baseUrl: baseUrl(),
    siteId: opts.user.siteId,
    getToken: opts.getToken,
    deviceId,
    fetch: opts.watchPushes === false ? opts.fetch : watched,
    batchSize: opts.batchSize,
    requestsPerBatch: opts.requestsPerBatch,
    pullBatchSize: opts.pullBatchSize,
    runTimeoutMs: opts.runTimeoutMs,
    onUnauthorized: opts.onUnauthorized,
    scheduler: opts.scheduler ?? { backoffBaseMs: 200, backoffMaxMs: 2000 },
  });
  if (opts.lead !== false) await waitForLeader(sync);

  // What the panel counts: records after the mirrored push checkpoint are pending; of those at or
  // before it (answered), the refused ones that still hold the refused version are rejected.
  const pendingIds = () => idsAfter(db.dispenses, storedCheckpoint(db.name));
  const rejectedIds = async () => new Set((await firstValueFrom(rejectedMarks$(db.syncmarks, db.dispenses))).map((m) => m.externalId));
  const syncedIds = async (rejected?: Set<string>) => {
    const refused = rejected ?? (await rejectedIds());
    return (await idsUpTo(db.dispenses, storedCheckpoint(db.name))).filter((id) => !refused.has(id));
  };
  const stopWatching = () => {
    if (reportWatches.get(deviceId) === watch) reportWatches.delete(deviceId);
  };
  const device: Device = {
    name: opts.name,
    browser,
    db,
    sync,
    seen,
    user: opts.user,
    reports: watch,
    nextReport(timeoutMs = 30_000) {
      const after = watch.sent;
      return eventually(() => watch.sent > after && watch.answered >= watch.sent, { timeout: timeoutMs, what: `a report of ${opts.name}` }).then(
        () => undefined,
      );
    },
    syncNow: () => sync.syncNow(),
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
    get: async (id) => (await db.dispenses.findOne(id).exec())?.toJSON() as Dispense | undefined,
    async marks() {
      const rejected = await rejectedIds();
      return { pending: (await pendingIds()).length, rejected: rejected.size, synced: (await syncedIds(rejected)).length };
    },
    pushCheckpoint: () => storedCheckpoint(db.name),
    pending: () => countAfter(db.dispenses, storedCheckpoint(db.name)),
    pendingIds,
    syncedIds: () => syncedIds(),
    records: async () => new Map((await db.dispenses.find().exec()).map((d) => [d.primary, d.toJSON() as Dispense])),
    async syncUntilDone(deadlineMs) {
      let runs = 0;
      await eventually(
        async () => {
          if ((await device.pending()) === 0) return true;
          runs++;
          await sync.syncNow();
          return (await device.pending()) === 0;
        },
        { timeout: deadlineMs, interval: 100, what: `${opts.name}: nothing pending` },
      );
      return runs;
    },
    async syncUntil(what, check, timeoutMs = 45_000) {
      await eventually(
        async () => {
          await sync.syncNow();
          return check();
        },
        { timeout: timeoutMs, interval: 50, what: `${opts.name} to get ${what}` },
      );
    },
    async close() {
      stopWatching();
      await sync.stop();
      if (!db.closed) await db.close();
    },
    async remove() {
      stopWatching();
      await sync.stop();
      if (!db.closed) await db.remove();
    },
  };
  return device;
}

/**
 * The shortest gap between a 429 and the next push of the same device, as a share of the
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
