/**
 * `--preload N`: the tables filled with N records and their audit rows inside PostgreSQL
 * (generate_series, secondary indexes dropped and rebuilt, outside any timing), so push, re-push,
 * the list and the pull can be measured against a database of a large estate; and the plans of the
 * server's own queries there, captured as the server's functions run them.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { pullDispenses, parsePullQuery } from '../server/pull';
import { readRecords } from '../server/push-sql';
import { dispenseTotals, listDispenses, syncStatus } from '../server/records';
import { RECOUNT_SITE_RECORDS_SQL } from '../server/site-counts';

/** Records per preloaded site: about two years of a busy pharmacy. */
export const RECORDS_PER_SITE = 10_000;
// Transactions of 250,000 rows: a pull waits for the oldest transaction running on the server, so
// other suites on the same PostgreSQL should not wait for a long one.
const CHUNK = 250_000;

/** A time-ordered (version 7) UUID: 48 bits of Unix milliseconds, then random bits (RFC 9562). */
export function uuidv7(ms = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The same in SQL (PostgreSQL 15 has no uuidv7()): the record's own time, then random hex.
const V7_SQL = `(lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
  || to_hex(8 + floor(random() * 4)::int) || substr(md5(random()::text), 1, 15))::uuid`;

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface PreloadResult {
  records: number;
  sites: number;
  ms: number;
  indexMs: number;
  vacuumMs: number;
}

/**
 * Adds `records` records over `records / RECORDS_PER_SITE` sites (`benchSite` is one of them),
 * dispensed over the last two years, each with its "create" audit row, in transactions of
 * 250,000 (a pull waits for the oldest transaction running). Secondary indexes are dropped first and built again after (as a bulk import would).
 */
export async function preload(url: string, opts: { records: number; benchSite: string; ids: 'v4' | 'v7' }): Promise<PreloadResult> {
  const sites = Math.max(1, Math.round(opts.records / RECORDS_PER_SITE));
  return withClient(url, async (c) => {
    const { rows: indexes } = await c.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = 'public' AND i.tablename IN ('dispenses', 'audit_logs')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`,
    );
    const start = performance.now();
    for (const ix of indexes) await c.query(`DROP INDEX ${ix.name}`);
    const span = 730 * 86_400_000; // two years, in ms
    for (let from = 0; from < opts.records; from += CHUNK) {
      const to = Math.min(opts.records, from + CHUNK) - 1;
      await c.query(
        `WITH src AS (
           SELECT g, date_trunc('milliseconds', now() - make_interval(secs => ($2::bigint - g) * $3::float8 / 1000)) AS ts FROM generate_series($1::bigint, $4::bigint) g
         ), made AS (
           INSERT INTO dispenses (external_id, site_id, patient_id, patient_name, medication_code, medication_name, quantity, unit,
             batch_number, expiry_date, dispensed_at, dispensed_by, status, updated_at, received_at, server_updated_at)
           SELECT ${opts.ids === 'v7' ? V7_SQL : 'gen_random_uuid()'},
             CASE WHEN g % $5 = 0 THEN $6 ELSE 'site-' || lpad((g % $5)::text, 5, '0') END,
             'P' || (100000 + g % 5000), 'Patient ' || (g % 5000), 'MED' || (g % 300), 'Amoxicillin 500 mg capsules', 21, 'capsule',
             'B' || (g % 97), DATE '2028-06-30', ts, 'preload', 'dispensed', ts, ts, ts
           FROM src
           RETURNING *
         )
         INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id, created_at)
         SELECT 'dispense', external_id, 'create', 'preload', NULL, '{}', NULL,
           jsonb_build_object('externalId', external_id, 'siteId', site_id, 'patientId', patient_id, 'patientName', patient_name,
             'medicationCode', medication_code, 'medicationName', medication_name, 'quantity', quantity, 'unit', unit,
             'batchNumber', batch_number, 'expiryDate', expiry_date, 'status', status, 'dispensedBy', dispensed_by,
             'dispensedAt', to_char(dispensed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'updatedAt', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
           NULL, received_at
         FROM made`,
        [from, opts.records, span / opts.records, to, sites, opts.benchSite],
      );
      if ((to + 1) % 1_000_000 === 0 || to + 1 === opts.records)
        console.log(`  preload: ${to + 1} of ${opts.records} records (${((performance.now() - start) / 1000).toFixed(0)} s)`);
    }
    await c.query(RECOUNT_SITE_RECORDS_SQL); // the sites' counts, as the push keeps them
    const indexStart = performance.now();
    await c.query('SET maintenance_work_mem = "512MB"');
    for (const ix of indexes) await c.query(ix.def);
    const vacuumStart = performance.now();
    await c.query('VACUUM (ANALYZE) dispenses, audit_logs');
    // The preload's dirty pages written now, not by a checkpoint during the measures that follow.
    await c.query('CHECKPOINT');
    const end = performance.now();
    return { records: opts.records, sites, ms: end - start, indexMs: vacuumStart - indexStart, vacuumMs: end - vacuumStart };
  });
}

export interface Sizes {
  records: number;
  audit: number;
  /** Table + TOAST + indexes, bytes. */
  dispensesBytes: number;
  auditBytes: number;
  /** Both tables, MB per million records. */
  mbPerMillion: number;
}

export async function sizes(url: string): Promise<Sizes> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(
      `SELECT (SELECT count(*) FROM dispenses)::bigint AS records, (SELECT count(*) FROM audit_logs)::bigint AS audit,
              pg_total_relation_size('dispenses') AS d, pg_total_relation_size('audit_logs') AS a`,
    );
    const r = rows[0];
    const records = Number(r.records);
    return {
      records,
      audit: Number(r.audit),
      dispensesBytes: Number(r.d),
      auditBytes: Number(r.a),
      mbPerMillion: Math.round(((Number(r.d) + Number(r.a)) / 2 ** 20 / records) * 1e6),
    };
  });
}

export interface Plan {
  query: string;
  plan: string;
  /** A sequential scan of a table of records or audit rows (never wanted at scale). */
  seqScan: boolean;
  /** A scan node that read over 100,000 rows: an index scan of the whole table is no better. */
  wideScan: boolean;
}

/**
 * Runs the server's own read functions against the database, captures each SQL statement they
 * send (knex's query event) and explains it there (ANALYZE, BUFFERS), so the plans are those of
 * the code as it is, not of a copy of its SQL.
 */
export async function plans(
  db: Knex,
  url: string,
  siteId: string,
  opts: { pushedIds: string[]; windowDays: number; changes: string },
): Promise<Plan[]> {
  const { windowDays, changes } = opts;
  const captured: { what: string; sql: string; bindings: unknown[] }[] = [];
  let what = '';
  const onQuery = (q: { sql: string; bindings?: unknown[] }) => captured.push({ what, sql: q.sql, bindings: q.bindings ?? [] });
  db.on('query', onQuery);
  try {
    what = 'list, first page';
    const page = await listDispenses(db, siteId, { limit: 50 });
    what = 'list, next page';
    await listDispenses(db, siteId, { limit: 50, cursor: page.nextCursor ?? undefined });
    what = 'pull, first page (window)';
    const first = await pullDispenses(db, siteId, parsePullQuery({ limit: '1000' }), windowDays);
    what = 'pull, next page (window)';
    await pullDispenses(db, siteId, parsePullQuery({ limit: '1000', checkpoint: first.checkpoint }), windowDays);
    what = 'pull, a page of changes (after the window)';
    await pullDispenses(db, siteId, parsePullQuery({ limit: '1000', checkpoint: changes }), windowDays);
    what = "push, a batch's stored records (1000 ids)";
    await readRecords(db, opts.pushedIds.slice(0, 1000), false);
    what = 'sync status';
    await syncStatus(db, siteId, { pullWindowDays: windowDays, duplicateWindowHours: 24 });
    what = "a patient's history, the id typed in lower case with spaces";
    await listDispenses(db, siteId, { limit: 100, patientId: ' p100000 ' });
    const now = Date.now();
    what = "the site's totals of the last day";
    await dispenseTotals(db, siteId, new Date(now - 86_400_000).toISOString(), new Date(now).toISOString());
    what = "the site's totals of the last 366 days";
    await dispenseTotals(db, siteId, new Date(now - 366 * 86_400_000).toISOString(), new Date(now).toISOString());
  } finally {
    db.off('query', onQuery);
  }
  return withClient(url, async (c) => {
    const out: Plan[] = [];
    for (const q of captured) {
      const res = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.bindings);
      const plan = res.rows.map((r) => r['QUERY PLAN']).join('\n');
      const wide = [...plan.matchAll(/Scan .*actual time=\S+ rows=(\d+) loops=(\d+)/g)].some((m) => Number(m[1]) * Number(m[2]) > 100_000);
      out.push({ query: q.what, plan, seqScan: /Seq Scan on (dispenses|audit_logs)/.test(plan), wideScan: wide });
    }
    return out;
  });
}

/** The changes part of a pull: its checkpoint after the window, found by walking the window. */
export async function changesCheckpoint(db: Knex, siteId: string, windowDays: number): Promise<string> {
  let page = await pullDispenses(db, siteId, parsePullQuery({ limit: '1000' }), windowDays);
  while (page.documents.length === 1000)
    page = await pullDispenses(db, siteId, parsePullQuery({ limit: '1000', checkpoint: page.checkpoint }), windowDays);
  return page.checkpoint;
}
