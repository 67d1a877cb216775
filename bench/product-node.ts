/**
 * 4a. The product end to end in Node, in a process of its own (so its heap is its own): records
 * made in RxDB on fake-indexeddb by the app's own write path (createDispenses), then ONE "Sync
 * now" through the app's startSync, timed until the pending count is 0 and PostgreSQL holds
 * every record. Run by run.ts (runProductNode); prints one JSON line.
 */
import '../test/support/local-storage';
import pg from 'pg';
import { createDispenses } from '../client/data/records';
import { useSyncStatus } from '../client/stores/sync-status';
// The tests' device (RxDB on fake-indexeddb, whose cursors it makes linear: they walk from the
// range's start) and the records of parts 1-3 (makeDispense), as typed in the form.
import { inputFor, newBrowser, startDevice } from '../test/support/device';
import { eventually } from '../test/support/eventually';

export interface ProductNodeInput {
  serverUrl: string;
  databaseUrl: string;
  token: string;
  user: { username: string; siteId: string };
  records: number;
}

export interface ProductNodeResult {
  records: number;
  seedMs: number;
  syncMs: number;
  /** Peak of process.memoryUsage().heapUsed / rss, sampled every 50 ms while seeding and syncing. */
  peakHeapMb: { seed: number; sync: number };
  peakRssMb: { seed: number; sync: number };
  lastResult: string | null;
}

function memorySampler() {
  let heap = 0;
  let rss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  };
  sample();
  const timer = setInterval(sample, 50);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return { heapMb: Math.round(heap / 2 ** 20), rssMb: Math.round(rss / 2 ** 20) };
    },
  };
}

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) =>
  eventually(check, { what, timeout: timeoutMs, interval: 20 });

async function main(input: ProductNodeInput): Promise<ProductNodeResult> {
  const browser = newBrowser(`sems-bench-${process.pid}`, { devMode: false }); // as the production build
  const db = await browser.open();
  const pool = new pg.Pool({ connectionString: input.databaseUrl, max: 1 });
  try {
    // Seed through the app's write path, 1,000 records per call as an import would.
    let mem = memorySampler();
    const seedStart = performance.now();
    for (let from = 0; from < input.records; from += 1000) {
      const inputs = Array.from({ length: Math.min(1000, input.records - from) }, (_, k) => inputFor(from + k));
      await createDispenses(db, inputs, input.user);
    }
    const seedMs = performance.now() - seedStart;
    const seedMem = mem.stop();

    // One run for the whole push: the app ends a run after 5 minutes by default (and resumes from
    // the checkpoint with backoff), which a large push in Node can pass; that wait is not measured.
    const device = await startDevice(db, browser, {
      name: 'bench-node',
      deviceId: 'bench-node',
      baseUrl: input.serverUrl,
      user: input.user,
      getToken: () => input.token,
      runTimeoutMs: 60 * 60_000,
      scheduler: {},
      watchPushes: false,
    });
    const { sync } = device;
    try {
      await until(`${input.records} pending`, () => useSyncStatus.getState().pendingCount === input.records, 600_000);

      mem = memorySampler();
      const syncStart = performance.now();
      await sync.syncNow();
      await until('0 pending', () => useSyncStatus.getState().pendingCount === 0, 600_000);
      await until(
        `${input.records} rows in PostgreSQL`,
        async () => {
          const { rows } = await pool.query('SELECT count(*)::int AS n FROM dispenses');
          return rows[0].n === input.records;
        },
        600_000,
      );
      const syncMs = performance.now() - syncStart;
      const syncMem = mem.stop();
      const status = useSyncStatus.getState();
      if (status.lastError) throw new Error(`sync reported an error: ${status.lastError}`);
      return {
        records: input.records,
        seedMs,
        syncMs,
        peakHeapMb: { seed: seedMem.heapMb, sync: syncMem.heapMb },
        peakRssMb: { seed: seedMem.rssMb, sync: syncMem.rssMb },
        lastResult: status.lastResult,
      };
    } finally {
      await sync.stop();
    }
  } finally {
    await pool.end();
    await db.remove();
  }
}

if (require.main === module) {
  const input = JSON.parse(process.env.BENCH_INPUT ?? '{}') as ProductNodeInput;
  main(input).then(
    (result) => {
      console.log(`RESULT ${JSON.stringify(result)}`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
