/**
 * Dispense records in PostgreSQL: the mapping between the record and its snake_case row,
 * and the reads behind the list, the detail with its audit trail, and the sync status.
 */
import type { Knex } from 'knex';
import type { AuditEntry, DispensePage, DispenseTotals, SyncStatus } from '../schemas/api';
import { DISPENSE_FIELDS, type Dispense } from '../schemas/dispense';
import { matchKeySql } from '../schemas/match-key';

/** Record field → column. The push SQL and every read use this one list. */
export const COLUMNS = {
  externalId: 'external_id',
  siteId: 'site_id',
  patientId: 'patient_id',
  patientName: 'patient_name',
  medicationCode: 'medication_code',
  medicationName: 'medication_name',
  quantity: 'quantity',
  unit: 'unit',
  batchNumber: 'batch_number',
  expiryDate: 'expiry_date',
  prescriber: 'prescriber',
  prescriptionRef: 'prescription_ref',
  dispensedAt: 'dispensed_at',
  dispensedBy: 'dispensed_by',
  status: 'status',
  voidReason: 'void_reason',
  notes: 'notes',
  duplicateConfirmedBy: 'duplicate_confirmed_by',
  duplicateConfirmedAt: 'duplicate_confirmed_at',
  editReason: 'edit_reason',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof Dispense, string>;

/** SQL types of the columns, for reading records out of JSON inside a statement. */
export const COLUMN_TYPES: Record<keyof Dispense, string> = {
  externalId: 'uuid',
  siteId: 'text',
  patientId: 'text',
  patientName: 'text',
  medicationCode: 'text',
  medicationName: 'text',
  quantity: 'double precision',
  unit: 'text',
  batchNumber: 'text',
  expiryDate: 'date',
  prescriber: 'text',
  prescriptionRef: 'text',
  dispensedAt: 'timestamptz',
  dispensedBy: 'text',
  status: 'text',
  voidReason: 'text',
  notes: 'text',
  duplicateConfirmedBy: 'text',
  duplicateConfirmedAt: 'timestamptz',
  editReason: 'text',
  updatedAt: 'timestamptz',
};

/** The record's instants: read as UTC text and given back in the one ISO form (docs/decisions/iso-instants.md). */
const INSTANTS: ReadonlySet<keyof Dispense> = new Set(
  Object.entries(COLUMN_TYPES)
    .filter(([, t]) => t === 'timestamptz')
    .map(([f]) => f as keyof Dispense),
);

export type DispenseRow = { [K in keyof typeof COLUMNS as (typeof COLUMNS)[K]]: unknown };

// An instant at UTC as PostgreSQL writes a timestamp: 'YYYY-MM-DD HH:MM:SS[.ffffff]'.
const UTC_TEXT = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/;

export function iso(v: unknown): string {
  const utc = typeof v === 'string' ? UTC_TEXT.exec(v) : null;
  if (utc) return `${utc[1]}T${utc[2]}.${(utc[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

/**
 * The record's columns for reads of many records (the push reads 1000 a batch): the instants as
 * UTC text, which rowToDispense turns into ISO by slicing, where the driver would parse each into
 * a Date to be formatted again (2-3 ms of a 15 ms read of 1000 records).
 */
export function recordColumns(alias: string): string {
  return DISPENSE_FIELDS.map((f) => {
    const c = COLUMNS[f];
    return INSTANTS.has(f) ? `(${alias}.${c} AT TIME ZONE 'UTC')::text AS ${c}` : `${alias}.${c}`;
  }).join(', ');
}

export function rowToDispense(row: DispenseRow): Dispense {
  const out: Record<string, unknown> = {};
  for (const f of DISPENSE_FIELDS) {
    const v = row[COLUMNS[f]];
    if (v === null || v === undefined) continue;
    if (INSTANTS.has(f)) out[f] = iso(v);
    else if (f === 'quantity') out[f] = Number(v);
    else out[f] = v;
  }
  return out as Dispense;
}

const SELECT_COLUMNS = DISPENSE_FIELDS.map((f) => COLUMNS[f]);

/**
 * The site's records (or one patient's, the id matched ignoring case and surrounding space along
 * dispenses_site_patient_key), newest first; the cursor is the last item's `dispensedAt_externalId`.
 */
export async function listDispenses(
  db: Knex,
  siteId: string,
  { limit, cursor, patientId }: { limit: number; cursor?: string; patientId?: string },
): Promise<DispensePage> {
  const q = db('dispenses')
    .select(SELECT_COLUMNS)
    .where({ site_id: siteId })
    .orderBy([
      { column: 'dispensed_at', order: 'desc' },
      { column: 'external_id', order: 'desc' },
    ])
    .limit(limit + 1);
  // Both sides keyed in SQL, so the server agrees with itself whatever JavaScript's Unicode version.
  if (patientId !== undefined) q.andWhereRaw(`${matchKeySql('patient_id')} = ${matchKeySql('?')}`, [patientId]);
  if (cursor) {
    const [at, id] = cursor.split('_');
    q.andWhereRaw('(dispensed_at, external_id) < (?::timestamptz, ?::uuid)', [at, id]);
  }
  const rows = (await q) as DispenseRow[];
  const items = rows.slice(0, limit).map(rowToDispense);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? `${last.dispensedAt}_${last.externalId}` : null };
}

export async function getDispense(db: Knex, siteId: string, externalId: string): Promise<{ record: Dispense; audit: AuditEntry[] } | undefined> {
  const row = (await db('dispenses').select(SELECT_COLUMNS).where({ external_id: externalId, site_id: siteId }).first()) as DispenseRow | undefined;
  if (!row) return undefined;
  const audit = await db('audit_logs')
    .select('id', 'action', 'actor', 'device_id', 'request_id', 'created_at', 'clock_offset_ms', 'changed', 'before', 'after')
    .where({ entity: 'dispense', entity_id: externalId })
    .orderBy('id');
  return {
    record: rowToDispense(row),
    audit: audit.map((a) => ({
      id: Number(a.id),
      action: a.action,
      actor: a.actor,
      deviceId: a.device_id,
      requestId: a.request_id,
      createdAt: iso(a.created_at),
      clockOffsetMs: a.clock_offset_ms === null ? null : Number(a.clock_offset_ms),
      changed: a.changed,
      before: a.before,
      after: a.after,
    })),
  };
}

/** The settings a device reads at each sync, from the server's configuration. */
export type SyncSettings = Pick<SyncStatus, 'pullWindowDays' | 'duplicateWindowHours'>;

export async function syncStatus(db: Knex, siteId: string, settings: SyncSettings): Promise<SyncStatus> {
  const { rows } = (await db.raw(
    // Each site's count is kept by the push (site_sync.records): two small reads, not a count of
    // millions of rows.
    `SELECT (SELECT coalesce(sum(records), 0)::float8 FROM site_sync) AS total,
            s.records::float8 AS site, s.last_push_at, now() AS server_time
     FROM (SELECT 1) AS one LEFT JOIN site_sync s ON s.site_id = ?`,
    [siteId],
  )) as { rows: { total: number; site: number | null; last_push_at: Date | null; server_time: Date }[] };
  const r = rows[0];
  return {
    serverTime: iso(r.server_time),
    totalRecords: r.total,
    siteRecords: r.site ?? 0,
    lastPushAt: r.last_push_at ? iso(r.last_push_at) : null,
    ...settings,
  };
}

/**
 * The site's totals per medication and unit for the records dispensed in [from, to): how many
 * dispenses and how much, voided ones apart. Medication codes are grouped by their match key;
 * each group is named by its newest record's code and name. Quantities are summed to the
 * thousandth, exactly (client/totals.ts sums the device's the same way). One range of
 * dispenses_site_dispensed_at.
 */
export async function dispenseTotals(db: Knex, siteId: string, from: string, to: string): Promise<DispenseTotals> {
  const newest = 'ORDER BY dispensed_at DESC, external_id DESC';
  const { rows } = (await db.raw(
    `SELECT (array_agg(medication_code ${newest}))[1] AS medication_code,
            (array_agg(medication_name ${newest}))[1] AS medication_name,
            unit,
            count(*) FILTER (WHERE status <> 'voided')::int AS dispensed,
            coalesce(sum(round(quantity::numeric, 3)) FILTER (WHERE status <> 'voided'), 0)::float8 AS quantity,
            count(*) FILTER (WHERE status = 'voided')::int AS voided
     FROM dispenses
     WHERE site_id = ? AND dispensed_at >= ? AND dispensed_at < ?
     GROUP BY ${matchKeySql('medication_code')}, unit
     ORDER BY 2, 1, 3`,
    [siteId, from, to],
  )) as { rows: { medication_code: string; medication_name: string; unit: Dispense['unit']; dispensed: number; quantity: number; voided: number }[] };
  const totals = rows.map((r) => ({
    medicationCode: r.medication_code,
    medicationName: r.medication_name,
    unit: r.unit,
    dispensed: r.dispensed,
    quantity: r.quantity,
    voided: r.voided,
  }));
  return { from, to, totals };
}
