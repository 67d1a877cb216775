/**
 * The push endpoint's domain logic: RxDB push rows in, conflicts and rejections out.
 * One transaction per batch, set-based SQL (a statement per step, not per record), an audit
 * row for every record created or changed and none for a row the server already holds.
 */
import type { Knex } from 'knex';
import type { PushResponse, PushRow, RejectedRow, User } from '../schemas/api';
import { changedFields, dispenseSchema, sameDispense, type Dispense } from '../schemas/dispense';
import { toIssues } from './errors';
import { COLUMNS, COLUMN_TYPES, recordColumns, rowToDispense, type DispenseRow } from './records';
import { usersOfSite } from './users';

export interface PushContext {
  user: User;
  deviceId: string | null;
  requestId: string;
}

interface Candidate {
  doc: Dispense;
  /** The state the client based its change on (its assumedMasterState); null for "new on the client". */
  assumed: Record<string, unknown> | null;
}

interface Update {
  externalId: string;
  action: 'update' | 'void';
  changed: string[];
  before: Dispense;
  after: Dispense;
}

const FIELDS = Object.keys(COLUMNS) as (keyof Dispense)[];
const RECORD_COLUMNS = FIELDS.map((f) => `"${f}" ${COLUMN_TYPES[f]}`).join(', ');
const SELECT_COLUMNS = FIELDS.map((f) => COLUMNS[f]);
const TABLE_COLUMNS = SELECT_COLUMNS.join(', ');
const INPUT_COLUMNS = FIELDS.map((f) => `"${f}"`).join(', ');
const SET_COLUMNS = FIELDS.filter((f) => f !== 'externalId')
  .map((f) => `${COLUMNS[f]} = i."${f}"`)
  .join(', ');

// The site's last push, noted by a push that writes (in its transaction, whose commit waits for
// the disk anyway).
const NOTE_PUSH = `INSERT INTO site_sync (site_id, last_push_at) SELECT ?, now()`;
const NOTE_CONFLICT = `ON CONFLICT (site_id) DO UPDATE SET last_push_at = GREATEST(site_sync.last_push_at, EXCLUDED.last_push_at)`;

// New records and their audit rows in one statement; a record that exists already is left
// alone (ON CONFLICT DO NOTHING), and its id is all the statement returns, so a batch of new
// records returns no rows. When the batch is only new records and all of them were inserted,
// the statement notes the site's push too and is the transaction's last; otherwise that is left
// to the last statement, so the site's row lock is never held while record locks are awaited.
// Sorted by id so that two concurrent batches take their row locks in the same order.
const INSERT_SQL = `
WITH input AS (
  SELECT e AS doc, r.* FROM jsonb_array_elements(?::jsonb) AS e, jsonb_to_record(e) AS r(${RECORD_COLUMNS})
), created AS (
  INSERT INTO dispenses (${TABLE_COLUMNS})
  SELECT ${INPUT_COLUMNS} FROM input ORDER BY "externalId"
  ON CONFLICT (external_id) DO NOTHING
  RETURNING external_id
), audited AS (
  INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id)
  SELECT 'dispense', c.external_id, 'create', ?, ?, '{}', NULL, i.doc, ?
  FROM created c JOIN input i ON i."externalId" = c.external_id
  RETURNING entity_id
), noted AS (
  ${NOTE_PUSH} WHERE ? AND (SELECT count(*) FROM created) = (SELECT count(*) FROM input)
  ${NOTE_CONFLICT}
)
SELECT i."externalId" AS external_id FROM input i
WHERE NOT EXISTS (SELECT 1 FROM audited a WHERE a.entity_id = i."externalId")`;

const UPDATE_SQL = `
WITH input AS (
  SELECT e->'after' AS after, e->'before' AS before, e->>'action' AS action,
         ARRAY(SELECT jsonb_array_elements_text(e->'changed')) AS changed, r.*
  FROM jsonb_array_elements(?::jsonb) AS e, jsonb_to_record(e->'after') AS r(${RECORD_COLUMNS})
), updated AS (
  UPDATE dispenses d SET ${SET_COLUMNS}, server_updated_at = now()
  FROM input i WHERE d.external_id = i."externalId"
  RETURNING d.external_id
)
INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id)
SELECT 'dispense', u.external_id, i.action, ?, ?, i.changed, i.before, i.after, ?
FROM updated u JOIN input i ON i."externalId" = u.external_id
RETURNING entity_id`;

const RETRYABLE = new Set(['40P01', '40001']); // deadlock, serialization failure

function reject(externalId: string | null, code: string, message: string, issues?: RejectedRow['issues']): RejectedRow {
  return issues ? { externalId, code, message, issues } : { externalId, code, message };
}

/** Parses each row on its own; a bad one is rejected with its issues. */
function parseRows(rows: PushRow[], user: User, rejected: RejectedRow[]): Map<string, Candidate> {
  const candidates = new Map<string, Candidate>();
  for (const row of rows) {
    const rawId = row.newDocumentState.externalId;
    const idForReport = typeof rawId === 'string' ? rawId.slice(0, 64) : null;
    const parsed = dispenseSchema.safeParse(row.newDocumentState);
    if (!parsed.success) {
      rejected.push(reject(idForReport, 'invalid_record', 'The record is not valid', toIssues(parsed.error.issues)));
      continue;
    }
    const doc = parsed.data;
    const assumed = row.assumedMasterState;
    if (assumed && typeof assumed.updatedAt !== 'string') {
      rejected.push(reject(doc.externalId, 'invalid_assumed_state', 'assumedMasterState has no updatedAt'));
    } else if (doc.siteId !== user.siteId) {
      rejected.push(reject(doc.externalId, 'wrong_site', `Records of site ${user.siteId} only can be written by this user`));
    } else if (candidates.has(doc.externalId)) {
      rejected.push(reject(doc.externalId, 'duplicate_in_batch', 'The same record appears twice in one batch'));
    } else {
      candidates.set(doc.externalId, { doc, assumed: assumed ?? null });
    }
  }
  return candidates;
}

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

// A push that writes nothing (a re-push of what the server holds) notes the site's push only
// when the last noted one is older than a second: a plain UPDATE whose WHERE fails takes no lock
// and writes no WAL, so such a push commits nothing and waits for no disk. lastPushAt is exact
// for pushes that write, and within a second for those that do not. A prefix of the statement
// that reads the batch's records (step 1), so it costs no round trip of its own.
const NOTE_IDLE_SQL = `
WITH moved AS (
  UPDATE site_sync SET last_push_at = now() WHERE site_id = ? AND last_push_at < now() - interval '1 second'
  RETURNING 1
), first AS (
  INSERT INTO site_sync (site_id, last_push_at) SELECT ?, now()
  WHERE NOT EXISTS (SELECT 1 FROM site_sync WHERE site_id = ?)
  ON CONFLICT (site_id) DO NOTHING
)`;

async function readRecords(q: Knex, ids: string[], lock: boolean): Promise<Map<string, Dispense>> {
  // Rows are locked in the order of the ids (the nested loop follows the array), so sorted ids
  // mean two batches take their locks in one order and cannot deadlock. The ids are canonical
  // lower-case UUIDs (parsed by then), whose string order is PostgreSQL's uuid order.
  if (ids.length === 0) return new Map();
  return toRecords(await q.raw(lock ? LOCK_SQL : READ_SQL, [lock ? [...ids].sort() : ids]));
}

/** Step 1's read: the records without locks, in the statement that notes an idle push. */
async function readNotingPush(q: Knex, ids: string[], siteId: string): Promise<Map<string, Dispense>> {
  return toRecords(await q.raw(`${NOTE_IDLE_SQL} ${READ_SQL}`, [siteId, siteId, siteId, ids]));
}

function noteIdlePush(q: Knex, siteId: string): Promise<unknown> {
  return q.raw(`${NOTE_IDLE_SQL} SELECT 1`, [siteId, siteId, siteId]);
}

function toRecords(res: unknown): Map<string, Dispense> {
  const out = new Map<string, Dispense>();
  for (const row of (res as { rows: DispenseRow[] }).rows) out.set(row.external_id as string, rowToDispense(row));
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when the state a client assumed is the stored one, field by field. updatedAt alone does
 * not identify a version: two devices that change the same version in the same millisecond (or
 * whose clocks lag the record's updatedAt) stamp the same one, and a push assuming the other
 * device's version would overwrite this one unseen, e.g. undo a void.
 */
function assumedIsStored(assumed: Record<string, unknown> | null, stored: Dispense): boolean {
  return assumed !== null && FIELDS.every((f) => (assumed[f] ?? null) === (stored[f] ?? null));
}

/** True when a raw pushed record has exactly the fields and values of the stored one. */
function equalsStored(raw: Record<string, unknown>, stored: Dispense): boolean {
  const keys = Object.keys(raw);
  const storedKeys = FIELDS.filter((f) => stored[f] !== undefined);
  return keys.length === storedKeys.length && storedKeys.every((f) => raw[f] === stored[f]);
}

export async function pushDispenses(db: Knex, ctx: PushContext, rows: PushRow[]): Promise<PushResponse> {
  const rejected: RejectedRow[] = [];

  // Step 1: a row with an assumed state is an edit, or a re-send of a record the server may
  // hold: read those records, without locks. A row equal to its stored record (which was valid
  // when stored) is done, with no parse and no write: a re-push after a lost checkpoint costs one
  // read. A row new on the client (no assumed state) is not read: step 4 inserts it, and only
  // if the server holds it already is it read and compared there.
  const assumedIds = rows
    .filter((r) => r.assumedMasterState)
    .map((r) => r.newDocumentState.externalId)
    .filter((id): id is string => typeof id === 'string' && UUID.test(id));
  const ids = [...new Set(assumedIds)];
  // The read notes the site's push too, as a push that writes nothing must (see NOTE_IDLE_SQL);
  // a push that writes notes it again, exactly, in its transaction.
  const snapshot = ids.length > 0 ? await readNotingPush(db, ids, ctx.user.siteId) : new Map<string, Dispense>();
  const changed = rows.filter((row) => {
    const stored = snapshot.get(row.newDocumentState.externalId as string);
    if (!stored || !equalsStored(row.newDocumentState, stored)) return true;
    if (stored.siteId !== ctx.user.siteId) rejected.push(reject(stored.externalId, 'wrong_site', 'This record belongs to another site'));
    return false;
  });

  // Step 2: parse the other rows one by one, so one bad record does not stop the batch.
  const candidates = parseRows(changed, ctx.user, rejected);
  for (const [id, { doc }] of candidates) {
    const stored = snapshot.get(id);
    if (stored && stored.siteId !== ctx.user.siteId) {
      rejected.push(reject(id, 'wrong_site', 'This record belongs to another site'));
      candidates.delete(id);
    } else if (stored && sameDispense(stored, doc)) {
      candidates.delete(id);
    }
  }
  if (candidates.size === 0) {
    if (ids.length === 0) await noteIdlePush(db, ctx.user.siteId);
    return { conflicts: [], rejected };
  }

  // Step 3: a new record must name a dispenser of this site: the session's user, or a colleague
  // whose record is pushed from a shared device after a change of user (looked up).
  const others = [...candidates.values()]
    .filter((c) => !snapshot.has(c.doc.externalId) && c.doc.dispensedBy !== ctx.user.username)
    .map((c) => c.doc.dispensedBy);
  const dispensers = await usersOfSite(db, ctx.user.siteId, [...new Set(others)]);
  dispensers.add(ctx.user.username);
  const auditArgs = [ctx.user.username, ctx.deviceId, ctx.requestId];

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const txRejected = [...rejected];
        const conflicts: Dispense[] = [];

        // Step 4: insert the records the server did not hold, with their audit rows. One the
        // server holds already (a re-send whose answer was lost, or one another request inserted
        // meanwhile) is left alone and comes back to be decided below.
        const insertable = [...candidates.values()]
          .filter((c) => !snapshot.has(c.doc.externalId) && dispensers.has(c.doc.dispensedBy))
          .map((c) => c.doc);
        const created = new Set(insertable.map((d) => d.externalId));
        if (insertable.length > 0) {
          const onlyNew = insertable.length === candidates.size;
          const res = (await trx.raw(INSERT_SQL, [JSON.stringify(insertable), ...auditArgs, ctx.user.siteId, onlyNew])) as {
            rows: { external_id: string }[];
          };
          // Step 4b: every record was new and is in, and the site's push noted: nothing is left.
          if (onlyNew && res.rows.length === 0) return { conflicts, rejected: txRejected };
          for (const r of res.rows) created.delete(r.external_id);
        }

        // Step 5: a record that was not read in step 1 and not inserted now exists or was never
        // made: read it without locks; one equal to the pushed record is done, with no lock.
        const unread = [...candidates.keys()].filter((id) => !created.has(id) && !snapshot.has(id));
        const current = await readRecords(trx, unread, false);
        const rest = [...candidates.keys()].filter((id) => {
          if (created.has(id)) return false;
          const stored = current.get(id);
          if (!stored) return true;
          if (stored.siteId !== ctx.user.siteId) {
            txRejected.push(reject(id, 'wrong_site', 'This record belongs to another site'));
            return false;
          }
          return !sameDispense(stored, candidates.get(id)!.doc);
        });

        // Step 6: lock the records that exist and differ, and decide, row by row, what the push means.
        const existing = await readRecords(trx, rest, true);
        const updates: Update[] = [];
        for (const id of rest) {
          const { doc, assumed } = candidates.get(id)!;
          const server = existing.get(id);
          if (!server) {
            txRejected.push(reject(id, 'unknown_dispenser', `dispensedBy "${doc.dispensedBy}" is not a user of site ${ctx.user.siteId}`));
          } else if (server.siteId !== ctx.user.siteId) {
            txRejected.push(reject(id, 'wrong_site', 'This record belongs to another site'));
          } else if (sameDispense(server, doc)) {
            // Another request wrote this very state meanwhile: nothing to write.
          } else if (!assumedIsStored(assumed, server)) {
            conflicts.push(server); // the client decides with RxDB's conflict handler
          } else if (doc.dispensedBy !== server.dispensedBy) {
            txRejected.push(reject(id, 'immutable_field', 'dispensedBy cannot be changed after the record is made'));
          } else {
            const action = server.status !== 'voided' && doc.status === 'voided' ? 'void' : 'update';
            updates.push({ externalId: id, action, changed: changedFields(server, doc), before: server, after: doc });
          }
        }

        // Step 7: write the changes and their audit rows (before, after, what changed).
        if (updates.length > 0) {
          await trx.raw(UPDATE_SQL, [JSON.stringify(updates), ...auditArgs]);
        }

        // Step 8: note the site's last push (last statement: its row lock is held only to commit).
        await noteSitePush(trx, ctx.user.siteId);
        return { conflicts, rejected: txRejected };
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE.has(code)) continue;
      throw err;
    }
  }
}

function noteSitePush(q: Knex, siteId: string): Promise<unknown> {
  return q.raw(`${NOTE_PUSH} ${NOTE_CONFLICT}`, [siteId]);
}
