/**
 * The one database inspector of the tests and benchmarks, read over a connection of its own (so it
 * works while the server is down): the counts of records and audit rows of a site, the record
 * counts the push keeps per site, and the full inspection every fault scenario ends with (no
 * externalId twice, audit rows against the real changes, every stored row re-validated with the
 * shared dispenseSchema).
 */
import pg from 'pg';
import { dispenseSchema, sameDispense, type Dispense } from '../../schemas/dispense';
import { rowToDispense, type DispenseRow } from '../../server/records';

export interface Inspection {
  rows: number;
  /** Rows beyond one per externalId plus records with more than one "create" audit row. */
  duplicated: number;
  audit: number;
  /** Stored rows that fail dispenseSchema, with the first issue. */
  invalid: { externalId: string; issue: string }[];
  /** Audit rows whose "after" (or non-null "before") fails dispenseSchema. */
  invalidAudit: number;
  /**
   * Breaks of the audit chain of a record, which must be: one "create" (before null), then each
   * row's before = the previous after, every after a real change, the last after = the stored row.
   */
  auditChainBreaks: string[];
  /** Sites whose record count kept by the push (site_sync.records) is not their count of rows. */
  siteCountsOff: string[];
  /** The stored records, by externalId. */
  byId: Map<string, Dispense>;
  /** Audit rows per externalId. */
  auditById: Map<string, number>;
}

export interface RecordCounts {
  /** Rows in dispenses, and distinct externalIds among them. */
  records: number;
  ids: number;
  /** Audit rows of those records, and the "create" ones among them. */
  audit: number;
  creates: number;
}

/**
 * Records and audit rows: of one site (the audit rows of its records), or without `siteId` of the
 * whole database (every audit row, so a stray one shows too).
 */
export async function recordCounts(databaseUrl: string, siteId?: string): Promise<RecordCounts> {
  const [counts] =
    siteId === undefined
      ? await sql<RecordCounts>(
          databaseUrl,
          `SELECT (SELECT count(*)::int FROM dispenses) AS records, (SELECT count(DISTINCT external_id)::int FROM dispenses) AS ids,
                  (SELECT count(*)::int FROM audit_logs) AS audit, (SELECT count(*)::int FROM audit_logs WHERE action = 'create') AS creates`,
        )
      : await sql<RecordCounts>(
          databaseUrl,
          `SELECT count(*)::int AS records, count(DISTINCT external_id)::int AS ids,
             (SELECT count(*)::int FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.site_id = $1) AS audit,
             (SELECT count(*)::int FROM audit_logs a JOIN dispenses d ON d.external_id = a.entity_id WHERE d.site_id = $1 AND a.action = 'create') AS creates
           FROM dispenses WHERE site_id = $1`,
          [siteId],
        );
  return counts;
}

/** The audit actions of one record, oldest first. */
export async function auditActions(databaseUrl: string, externalId: string): Promise<string[]> {
  return (await sql<{ action: string }>(databaseUrl, 'SELECT action FROM audit_logs WHERE entity_id = $1 ORDER BY id', [externalId])).map(
    (r) => r.action,
  );
}

/** Sites whose record count kept by the push (site_sync.records) is not their count of rows, as "site: kept k, stored n". */
export async function keptSiteCountsOff(databaseUrl: string): Promise<string[]> {
  const rows = await sql<{ site_id: string; kept: string | null; stored: string | null }>(
    databaseUrl,
    `SELECT coalesce(s.site_id, d.site_id) AS site_id, s.records AS kept, d.n AS stored
     FROM site_sync s FULL JOIN (SELECT site_id, count(*) AS n FROM dispenses GROUP BY site_id) d ON d.site_id = s.site_id
     WHERE coalesce(s.records, 0) <> coalesce(d.n, 0)`,
  );
  return rows.map((r) => `${r.site_id}: kept ${r.kept ?? 'none'}, stored ${r.stored ?? 0}`);
}

export async function inspectDatabase(databaseUrl: string): Promise<Inspection> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<DispenseRow>('SELECT * FROM dispenses');
    const byId = new Map<string, Dispense>();
    const invalid: Inspection['invalid'] = [];
    for (const row of rows) {
      const doc = rowToDispense(row);
      byId.set(String(row.external_id), doc);
      const parsed = dispenseSchema.safeParse(doc);
      if (!parsed.success) invalid.push({ externalId: String(row.external_id), issue: JSON.stringify(parsed.error.issues[0]) });
    }
    const [dups] = (
      await client.query<{ extra: number; creates: number }>(
        `SELECT (SELECT count(*) - count(DISTINCT external_id) FROM dispenses)::int AS extra,
                (SELECT count(*) FROM (SELECT entity_id FROM audit_logs WHERE action = 'create'
                   GROUP BY entity_id HAVING count(*) > 1) x)::int AS creates`,
      )
    ).rows;
    const audit = await client.query<{ entity_id: string; n: number }>('SELECT entity_id, count(*)::int AS n FROM audit_logs GROUP BY entity_id');
    let invalidAudit = 0;
    const auditChainBreaks: string[] = [];
    const trail = await client.query<{ entity_id: string; action: string; before: Dispense | null; after: Dispense }>(
      'SELECT entity_id, action, before, after FROM audit_logs ORDER BY entity_id, id',
    );
    let prev: { entity_id: string; after: Dispense } | undefined;
    const last = new Map<string, Dispense>();
    for (const a of trail.rows) {
      if (!dispenseSchema.safeParse(a.after).success || (a.before !== null && !dispenseSchema.safeParse(a.before).success)) invalidAudit++;
      const first = prev?.entity_id !== a.entity_id;
      if (first && (a.action !== 'create' || a.before !== null)) auditChainBreaks.push(`${a.entity_id}: first audit row is ${a.action}`);
      if (!first && (a.action === 'create' || !a.before || !sameDispense(a.before, prev!.after))) {
        auditChainBreaks.push(`${a.entity_id}: ${a.action} does not follow the previous version`);
      }
      if (!first && a.before && sameDispense(a.before, a.after)) auditChainBreaks.push(`${a.entity_id}: ${a.action} changes nothing`);
      last.set(a.entity_id, a.after);
      prev = a;
    }
    for (const [id, doc] of byId) {
      const after = last.get(id);
      if (!after) auditChainBreaks.push(`${id}: stored without an audit row`);
      else if (!sameDispense(after, doc)) auditChainBreaks.push(`${id}: the last audit row is not the stored version`);
    }
    const auditById = new Map(audit.rows.map((r) => [r.entity_id, r.n]));
    const siteCountsOff = await keptSiteCountsOff(databaseUrl);
    return {
      rows: rows.length,
      duplicated: dups.extra + dups.creates,
      audit: audit.rows.reduce((s, r) => s + r.n, 0),
      invalid,
      invalidAudit,
      auditChainBreaks,
      siteCountsOff,
      byId,
      auditById,
    };
  } finally {
    await client.end();
  }
}

/**
 * Records the clients made (their latest state) that the database does not hold in that state.
 * `expected` maps externalId → the record's final state on its client.
 */
export function lostRecords(expected: Map<string, Dispense>, found: Inspection): string[] {
  const lost: string[] = [];
  for (const [id, doc] of expected) {
    const stored = found.byId.get(id);
    if (!stored || !sameDispense(stored, doc)) lost.push(id);
  }
  return lost;
}

/** Runs a query on the database (for setup such as deleting a user, or extra counts). */
export async function sql<R extends pg.QueryResultRow = any>(databaseUrl: string, text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}
