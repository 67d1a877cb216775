/**
 * The push's statements: set-based SQL over a batch sent as one JSON or array parameter (a
 * statement per step, not per record), and the reads of a batch's stored records.
 */
import type { Knex } from 'knex';
import { DISPENSE_FIELDS, type Dispense } from '../schemas/dispense';
import { storedUserAgent } from './devices';
import { COLUMNS, COLUMN_TYPES, recordColumns, rowToDispense, type DispenseRow } from './records';

const RECORD_COLUMNS = DISPENSE_FIELDS.map((f) => `"${f}" ${COLUMN_TYPES[f]}`).join(', ');
const SELECT_COLUMNS = DISPENSE_FIELDS.map((f) => COLUMNS[f]);
const TABLE_COLUMNS = SELECT_COLUMNS.join(', ');
const INPUT_COLUMNS = DISPENSE_FIELDS.map((f) => `"${f}"`).join(', ');
const SET_COLUMNS = DISPENSE_FIELDS.filter((f) => f !== 'externalId')
  .map((f) => `${COLUMNS[f]} = i."${f}"`)
  .join(', ');

// The pushing device's clock offset as last measured (its report, server/devices.ts), kept in
// each audit row: evaluated once per statement (site id and device id as parameters).
const DEVICE_OFFSET = '(SELECT clock_offset_ms FROM devices WHERE site_id = ? AND device_id = ?)';

// New records and their audit rows in one statement; a record that exists already is left
// alone (ON CONFLICT DO NOTHING), and its id is all the statement returns, so a batch of new
// records returns no rows. Sorted by id so that two concurrent batches take their row locks in the same order. The pull's
// change order (change_xid) is the column's default, the transaction's id (see server/pull.ts).
export const INSERT_SQL = `
WITH input AS (
  SELECT e AS doc, r.* FROM jsonb_array_elements(?::jsonb) AS e, jsonb_to_record(e) AS r(${RECORD_COLUMNS})
), created AS (
  INSERT INTO dispenses (${TABLE_COLUMNS})
  SELECT ${INPUT_COLUMNS} FROM input ORDER BY "externalId"
  ON CONFLICT (external_id) DO NOTHING
  RETURNING external_id
), audited AS (
  INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id, clock_offset_ms)
  SELECT 'dispense', c.external_id, 'create', ?, ?, '{}', NULL, i.doc, ?, ${DEVICE_OFFSET}
  FROM created c JOIN input i ON i."externalId" = c.external_id
  RETURNING entity_id
)
SELECT i."externalId" AS external_id FROM input i
WHERE NOT EXISTS (SELECT 1 FROM audited a WHERE a.entity_id = i."externalId")`;

// Edits and voids, with their audit rows; a changed record moves to its transaction's place in
// the pull's change order, so devices that hold it get the change.
export const UPDATE_SQL = `
WITH input AS (
  SELECT e->'after' AS after, e->'before' AS before, e->>'action' AS action,
         ARRAY(SELECT jsonb_array_elements_text(e->'changed')) AS changed, r.*
  FROM jsonb_array_elements(?::jsonb) AS e, jsonb_to_record(e->'after') AS r(${RECORD_COLUMNS})
), updated AS (
  UPDATE dispenses d SET ${SET_COLUMNS}, server_updated_at = now(), change_xid = pg_current_xact_id()
  FROM input i WHERE d.external_id = i."externalId"
  RETURNING d.external_id
)
INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id, clock_offset_ms)
SELECT 'dispense', u.external_id, i.action, ?, ?, i.changed, i.before, i.after, ?, ${DEVICE_OFFSET}
FROM updated u JOIN input i ON i."externalId" = u.external_id
RETURNING entity_id`;

// A batch's records by id: one index lookup per id, forced by a LATERAL subquery with LIMIT 1
// (external_id is the key, so the LIMIT changes no answer). A plain join to unnest was planned
// as a hash join over a scan of the whole table whenever the table's statistics were older
// than its rows, e.g. after a first sync of 100,000 records into a new install: 33-50 ms a
// batch instead of 5 (EXPLAIN ANALYZE), until autovacuum analyzed it. `external_id IN (...)`
// had the same failure.
const readSql = (lock: boolean) => `SELECT ${recordColumns('d')}
  FROM unnest(?::uuid[]) AS wanted(id)
  CROSS JOIN LATERAL (SELECT * FROM dispenses x WHERE x.external_id = wanted.id LIMIT 1${lock ? ' FOR UPDATE' : ''}) d`;
const READ_SQL = readSql(false);
const LOCK_SQL = readSql(true);

export async function readRecords(q: Knex, ids: string[], lock: boolean): Promise<Map<string, Dispense>> {
  // Rows are locked in the order of the ids (the nested loop follows the array), so sorted ids
  // mean two batches take their locks in one order and cannot deadlock. The ids are canonical
  // lower-case UUIDs (parsed by then), whose string order is PostgreSQL's uuid order.
  if (ids.length === 0) return new Map();
  const res = (await q.raw(lock ? LOCK_SQL : READ_SQL, [lock ? [...ids].sort() : ids])) as { rows: DispenseRow[] };
  return new Map(res.rows.map((row) => [row.external_id as string, rowToDispense(row)]));
}

/** Who pushed, for the closing note: the device, its user and its browser, when the request named a device. */
export interface PushingDevice {
  deviceId: string;
  username: string;
  userAgent: string | null;
}

// The site's last push and its record count (the records the push inserted added), in the
// transaction of a push that writes, as its last statement: the site's row lock is held only to
// commit, whose wait for the disk the writes need anyway.
const NOTE_SITE_SQL = `site AS (
  INSERT INTO site_sync (site_id, last_push_at, records) SELECT ?, now(), ?::bigint
  ON CONFLICT (site_id) DO UPDATE SET last_push_at = GREATEST(site_sync.last_push_at, EXCLUDED.last_push_at),
    records = site_sync.records + EXCLUDED.records
  RETURNING 1
)`;

// A push that writes nothing (a re-push of what the server holds) notes the site's push only
// when the last noted one is older than a second: a plain UPDATE whose WHERE fails takes no lock
// and writes no WAL, so such a push commits nothing and waits for no disk. lastPushAt is exact
// for pushes that write, and within a second for those that do not.
const NOTE_SITE_IDLE_SQL = `site AS (
  UPDATE site_sync SET last_push_at = now() WHERE site_id = ? AND last_push_at < now() - interval '1 second'
  RETURNING 1
), site_first AS (
  INSERT INTO site_sync (site_id, last_push_at) SELECT ?, now()
  WHERE NOT EXISTS (SELECT 1 FROM site_sync WHERE site_id = ?)
  ON CONFLICT (site_id) DO NOTHING
  RETURNING 1
)`;

// The device's last push, and the row is written only when the last noted one is a second old
// or the user or browser changed: a plain UPDATE whose WHERE fails writes nothing, so a burst of
// pushes adds no commits. A device never seen before gets its row.
const NOTE_DEVICE_SQL = `device AS (
  UPDATE devices SET last_push_at = now(), last_seen_at = now(), last_user = ?, user_agent = coalesce(?::text, user_agent)
  WHERE site_id = ? AND device_id = ?
    AND (last_push_at IS NULL OR last_push_at < now() - interval '1 second' OR last_user <> ?
      OR (?::text IS NOT NULL AND user_agent IS DISTINCT FROM ?::text))
  RETURNING 1
), device_first AS (
  INSERT INTO devices (site_id, device_id, last_user, last_push_at, user_agent)
  SELECT ?, ?, ?, now(), ? WHERE NOT EXISTS (SELECT 1 FROM devices WHERE site_id = ? AND device_id = ?)
  ON CONFLICT (site_id, device_id) DO NOTHING
  RETURNING 1
)`;

/**
 * The push's closing note, one statement: the site's last push (exactly, with the records
 * inserted, in a push's transaction; at most once a second outside one) and the device's.
 */
export async function notePush(q: Knex, siteId: string, inserted: number | null, device: PushingDevice | null): Promise<void> {
  const site = inserted === null ? { sql: NOTE_SITE_IDLE_SQL, args: [siteId, siteId, siteId] } : { sql: NOTE_SITE_SQL, args: [siteId, inserted] };
  const ctes = [site.sql];
  const args: (string | number | null)[] = [...site.args];
  if (device) {
    const { deviceId, username } = device;
    const ua = storedUserAgent(device.userAgent);
    ctes.push(NOTE_DEVICE_SQL);
    args.push(username, ua, siteId, deviceId, username, ua, ua, siteId, deviceId, username, ua, siteId, deviceId);
  }
  await q.raw(`WITH ${ctes.join(', ')} SELECT 1`, args);
}
