/**
 * The push endpoint's domain logic: RxDB push rows in, conflicts and rejections out.
 * One transaction per batch, set-based SQL (a statement per step, not per record), an audit
 * row for every record created or changed and none for a row the server already holds.
 */
import type { Knex } from 'knex';
import type { PushResponse, PushRow, RejectedRow, User } from '../schemas/api';
import { changedFields, dispenseSchema, sameDispense, type Dispense } from '../schemas/dispense';
import { toIssues } from './errors';
import { COLUMNS, COLUMN_TYPES, rowToDispense, type DispenseRow } from './records';
import { usersOfSite } from './users';

export interface PushContext {
  user: User;
  deviceId: string | null;
  requestId: string;
}

interface Candidate {
  doc: Dispense;
  /** updatedAt of the state the client based its change on; null for "new on the client". */
  assumedUpdatedAt: string | null;
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
const TABLE_COLUMNS = FIELDS.map((f) => COLUMNS[f]).join(', ');
const INPUT_COLUMNS = FIELDS.map((f) => `"${f}"`).join(', ');
const SET_COLUMNS = FIELDS.filter((f) => f !== 'externalId')
  .map((f) => `${COLUMNS[f]} = i."${f}"`)
  .join(', ');

// New records and their audit rows in one statement; a record that exists already is left
// alone (ON CONFLICT DO NOTHING) and handled as a possible update below. Sorted by id so that
// two concurrent batches take their row locks in the same order.
const INSERT_SQL = `
WITH input AS (
  SELECT e AS doc, r.* FROM jsonb_array_elements(?::jsonb) AS e, jsonb_to_record(e) AS r(${RECORD_COLUMNS})
), created AS (
  INSERT INTO dispenses (${TABLE_COLUMNS})
  SELECT ${INPUT_COLUMNS} FROM input ORDER BY "externalId"
  ON CONFLICT (external_id) DO NOTHING
  RETURNING external_id
)
INSERT INTO audit_logs (entity, entity_id, action, actor, device_id, changed, before, after, request_id)
SELECT 'dispense', c.external_id, 'create', ?, ?, '{}', NULL, i.doc, ?
FROM created c JOIN input i ON i."externalId" = c.external_id
RETURNING entity_id`;

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

/** Step 1: parse each row on its own, so one bad record does not stop the batch. */
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
      candidates.set(doc.externalId, { doc, assumedUpdatedAt: assumed ? (assumed.updatedAt as string) : null });
    }
  }
  return candidates;
}

export async function pushDispenses(db: Knex, ctx: PushContext, rows: PushRow[]): Promise<PushResponse> {
  const rejected: RejectedRow[] = [];
  const candidates = parseRows(rows, ctx.user, rejected);
  if (candidates.size === 0) return { conflicts: [], rejected };

  // Step 2: a new record must name a dispenser of this site (the session's user, or a
  // colleague whose record is pushed from a shared device after a change of user).
  const dispensers = await usersOfSite(db, ctx.user.siteId, [...new Set([...candidates.values()].map((c) => c.doc.dispensedBy))]);
  const auditArgs = [ctx.user.username, ctx.deviceId, ctx.requestId];

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const txRejected = [...rejected];
        const conflicts: Dispense[] = [];

        // Step 3: insert the records the server does not hold yet, with their audit rows.
        const insertable = [...candidates.values()].filter((c) => dispensers.has(c.doc.dispensedBy)).map((c) => c.doc);
        const created = new Set<string>();
        if (insertable.length > 0) {
          const res = (await trx.raw(INSERT_SQL, [JSON.stringify(insertable), ...auditArgs])) as { rows: { entity_id: string }[] };
          for (const r of res.rows) created.add(r.entity_id);
        }

        // Step 4: lock the records that exist and decide, row by row, what the push means.
        const rest = [...candidates.keys()].filter((id) => !created.has(id));
        const existing = new Map<string, Dispense>();
        if (rest.length > 0) {
          const found = (await trx('dispenses')
            .select(FIELDS.map((f) => COLUMNS[f]))
            .whereIn('external_id', rest)
            .orderBy('external_id')
            .forUpdate()) as DispenseRow[];
          for (const row of found) existing.set(row.external_id as string, rowToDispense(row));
        }
        const updates: Update[] = [];
        for (const id of rest) {
          const { doc, assumedUpdatedAt } = candidates.get(id)!;
          const server = existing.get(id);
          if (!server) {
            txRejected.push(reject(id, 'unknown_dispenser', `dispensedBy "${doc.dispensedBy}" is not a user of site ${ctx.user.siteId}`));
          } else if (server.siteId !== ctx.user.siteId) {
            txRejected.push(reject(id, 'wrong_site', 'This record belongs to another site'));
          } else if (sameDispense(server, doc)) {
            // Already holds this state (a re-push after a lost answer): nothing to write.
          } else if (assumedUpdatedAt !== server.updatedAt) {
            conflicts.push(server); // the client decides with RxDB's conflict handler
          } else if (doc.dispensedBy !== server.dispensedBy) {
            txRejected.push(reject(id, 'immutable_field', 'dispensedBy cannot be changed after the record is made'));
          } else {
            const action = server.status !== 'voided' && doc.status === 'voided' ? 'void' : 'update';
            updates.push({ externalId: id, action, changed: changedFields(server, doc), before: server, after: doc });
          }
        }

        // Step 5: write the changes and their audit rows (before, after, what changed).
        if (updates.length > 0) {
          await trx.raw(UPDATE_SQL, [JSON.stringify(updates), ...auditArgs]);
        }

        // Step 6: note the site's last push (last statement: its row lock is held only to commit).
        await trx.raw(
          `INSERT INTO site_sync (site_id, last_push_at) VALUES (?, now())
           ON CONFLICT (site_id) DO UPDATE SET last_push_at = GREATEST(site_sync.last_push_at, EXCLUDED.last_push_at)`,
          [ctx.user.siteId],
        );
        return { conflicts, rejected: txRejected };
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE.has(code)) continue;
      throw err;
    }
  }
}
