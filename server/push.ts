/**
 * The push endpoint's domain logic: RxDB push rows in, conflicts and rejections out.
 * One transaction per batch, set-based SQL (a statement per step, not per record), an audit
 * row for every record created or changed and none for a row the server already holds.
 */
import type { Knex } from 'knex';
import type { PushResponse, PushRow, RejectedRow, User } from '../schemas/api';
import { changedFields, DISPENSE_FIELDS, dispenseSchema, sameDispense, type Dispense } from '../schemas/dispense';
import { toIssues } from './errors';
import { INSERT_SQL, noteIdlePush, noteSitePush, readNotingPush, readRecords, UPDATE_SQL } from './push-sql';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True when the state a client assumed is the stored one, field by field. updatedAt alone does
 * not identify a version: two devices that change the same version in the same millisecond (or
 * whose clocks lag the record's updatedAt) stamp the same one, and a push assuming the other
 * device's version would overwrite this one unseen, e.g. undo a void.
 */
function assumedIsStored(assumed: Record<string, unknown> | null, stored: Dispense): boolean {
  return assumed !== null && sameDispense(assumed as Dispense, stored);
}

/** True when a raw pushed record has exactly the fields and values of the stored one. */
function equalsStored(raw: Record<string, unknown>, stored: Dispense): boolean {
  const keys = Object.keys(raw);
  const storedKeys = DISPENSE_FIELDS.filter((f) => stored[f] !== undefined);
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
