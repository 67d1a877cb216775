/**
 * What an operator watches, in Prometheus's text format (prom-client): request durations by
 * route pattern, what pushes and pulls carried, refusals, failed sign-ins and rate limits, the
 * database pool, and the devices that hold records the server lacks. One registry per app, so
 * several apps in one process (tests) never count into each other. Labels take bounded values
 * only (methods, route patterns, outcomes, codes): never a user, site, device or record id.
 */
import type { Knex } from 'knex';
import client from 'prom-client';
import { STALE_DEVICE_MS } from '../schemas/devices';

export type PushOutcome = 'inserted' | 'updated' | 'unchanged' | 'conflict' | 'rejected';
export type RateLimit = 'login_fail' | 'login_ip' | 'push' | 'api';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

export function createMetrics(db: Knex) {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry, prefix: 'sems_' });

  const httpDuration = new client.Histogram({
    name: 'sems_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const pushRows = new client.Counter({
    name: 'sems_push_rows_total',
    help: 'Pushed rows by what the push did with them',
    labelNames: ['outcome'] as const,
    registers,
  });
  const pushRejected = new client.Counter({
    name: 'sems_push_rejected_total',
    help: 'Pushed rows refused, by code',
    labelNames: ['code'] as const,
    registers,
  });
  const pullRows = new client.Counter({ name: 'sems_pull_rows_total', help: 'Records sent by pulls', registers });
  const pullPages = new client.Counter({ name: 'sems_pull_pages_total', help: 'Pull pages answered', registers });
  const loginFailures = new client.Counter({ name: 'sems_login_failures_total', help: 'Sign-ins refused for wrong credentials', registers });
  const rateLimited = new client.Counter({
    name: 'sems_rate_limited_total',
    help: 'Requests refused by a rate limit, by limit',
    labelNames: ['limit'] as const,
    registers,
  });

  new client.Gauge({
    name: 'sems_db_pool_connections',
    help: 'Database pool connections by state (used, free, pending acquires)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      // knex's pool (tarn): absent on a database with no pool of its own.
      const pool = (db.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
      if (!pool) return;
      this.set({ state: 'used' }, pool.numUsed());
      this.set({ state: 'free' }, pool.numFree());
      this.set({ state: 'pending' }, pool.numPendingAcquires());
    },
  });

  // Both device figures come from one read of the devices table per scrape.
  let figures: Promise<{ flagged: number; pending: number }> | null = null;
  const deviceFigures = () =>
    (figures ??= db
      .raw(
        `SELECT count(*) FILTER (WHERE pending_count > 0 AND last_seen_at < now() - make_interval(secs => ?))::float8 AS flagged,
                coalesce(sum(pending_count), 0)::float8 AS pending
         FROM devices`,
        [STALE_DEVICE_MS / 1000],
      )
      .then((r: { rows: { flagged: number; pending: number }[] }) => r.rows[0])
      .finally(() => setTimeout(() => (figures = null), 0)));
  new client.Gauge({
    name: 'sems_devices_flagged',
    help: 'Devices unseen for over a day with records pending',
    registers,
    async collect() {
      this.set((await deviceFigures()).flagged);
    },
  });
  new client.Gauge({
    name: 'sems_devices_pending_records',
    help: 'Records the devices last reported as not yet sent, summed',
    registers,
    async collect() {
      this.set((await deviceFigures()).pending);
    },
  });

  return {
    registry,
    /** A finished request: its route is the pattern it matched ("unmatched" when none did). */
    observeRequest(method: string, route: string, status: number, seconds: number) {
      httpDuration.observe({ method: METHODS.has(method) ? method : 'other', route, status: String(status) }, seconds);
    },
    pushed(counts: Record<PushOutcome, number>, rejectedCodes: string[]) {
      for (const [outcome, n] of Object.entries(counts)) if (n > 0) pushRows.inc({ outcome }, n);
      for (const code of rejectedCodes) pushRejected.inc({ code });
    },
    pulled(rows: number) {
      pullPages.inc();
      pullRows.inc(rows);
    },
    loginFailed: () => loginFailures.inc(),
    limited: (limit: RateLimit) => rateLimited.inc({ limit }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
