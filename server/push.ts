/**
 * The push endpoint's domain logic: RxDB push rows in, conflicts and rejections out.
 * One transaction per batch, set-based SQL (a statement per step, not per record), an audit
 * row for every record created or changed and none for a row the server already holds.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { PushResponse, PushRow, RejectedRow, User } from '../schemas/api';
import { CLOCK_AHEAD_LIMIT_MS } from '../schemas/devices';
import { DISPENSE_FIELDS, dispenseSchema, type Dispense } from '../schemas/dispense';
import { toIssues } from './errors';
import { decide, rejection, standsWithoutLock, wrongSite, type Candidate, type Rules, type Update } from './push-decision';
import { INSERT_SQL, noteIdlePush, noteSitePush, readNotingPush, readRecords, UPDATE_SQL } from './push-sql';
import { usersOfSite } from './users';

export interface PushContext {
  user: User;
  deviceId: string | null;
  requestId: string;
  /** How far ahead of the server's clock an instant may be (default CLOCK_AHEAD_LIMIT_MS, CLOCK_AHEAD_LIMIT_MINUTES). */
  clockAheadLimitMs?: number;
  /** Filled with what the committed transaction wrote, for the metrics. */
  written?: { inserted: number; updated: number };
}

const RETRYABLE = new Set(['40P01', '40001']); // deadlock, serialization failure

// The record schema compiled ahead of time (zod's z.compile): a generated check of the whole
// record runs first, and only a record it refuses goes through zod's ordinary parse, which makes
// the issues. Same answers; 1000 valid records in 1.5 ms instead of 6.2 (bench/ingest-sql.ts).
const recordSchema = z.compile(dispenseSchema);

/** Parses each row on its own; a bad one is rejected with its issues. */
function parseRows(rows: PushRow[], user: User, rejected: RejectedRow[]): Map<string, Candidate> {
  const candidates = new Map<string, Candidate>();
  for (const row of rows) {
    const rawId = row.newDocumentState.externalId;
    const idForReport = typeof rawId === 'string' ? rawId.slice(0, 64) : null;
    const parsed = recordSchema.safeParse(row.newDocumentState);
    if (!parsed.success) {
      // The message names what is wrong in the counter's words (the zod messages use the form's labels).
      const issues = toIssues(parsed.error.issues);
      const message = `The record is not valid: ${[...new Set(issues.map((i) => i.message))].slice(0, 3).join('; ')}`;
      rejected.push(rejection(idForReport, 'invalid_record', message, issues));
      continue;
    }
    const doc = parsed.data;
    const assumed = row.assumedMasterState;
    const foreign = wrongSite(doc, undefined, user.siteId);
    if (assumed && typeof assumed.updatedAt !== 'string') {
      rejected.push(rejection(doc.externalId, 'invalid_assumed_state', 'assumedMasterState has no updatedAt'));
    } else if (foreign) {
      rejected.push(foreign);
    } else if (candidates.has(doc.externalId)) {
      rejected.push(rejection(doc.externalId, 'duplicate_in_batch', 'The same record appears twice in one batch'));
    } else {
      candidates.set(doc.externalId, { doc, assumed: assumed ?? null });
    }
  }
  return candidates;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when a raw pushed record has exactly the fields and values of the stored one. */
function equalsStored(raw: Record<string, unknown>, stored: Dispense): boolean {
  const keys = Object.keys(raw);
  const storedKeys = DISPENSE_FIELDS.filter((f) => stored[f] !== undefined);
  return keys.length === storedKeys.length && storedKeys.every((f) => raw[f] === stored[f]);
}

export async function pushDispenses(db: Knex, ctx: PushContext, rows: PushRow[]): Promise<PushResponse> {
  const rejected: RejectedRow[] = [];
  // The session's user may always be named as dispenser; step 3 adds the colleagues it looks up.
  // Before that, only decisions on a record read are settled, and those need no dispenser.
  const dispensers = new Set([ctx.user.username]);
  const disabledSince = new Map<string, string>();
  const rules: Rules = {
    siteId: ctx.user.siteId,
    dispensers,
    disabledSince,
    serverNowMs: Date.now(),
    clockAheadLimitMs: ctx.clockAheadLimitMs ?? CLOCK_AHEAD_LIMIT_MS,
  };
  /**
   * Settles a row on a read without locks when its decision stands. A row with no record read
   * never does (its site was checked in the parse), so it is not decided here: step 4 decides it.
   */
  const settledUnlocked = (candidate: Candidate, stored: Dispense | undefined, out: RejectedRow[]): boolean => {
    if (!stored) return false;
    const decision = decide(candidate, stored, rules);
    if (!standsWithoutLock(decision)) return false;
    if (decision.kind === 'rejected') out.push(decision.rejection);
    return true;
  };

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
    // The row is its stored record: decided as that record pushed again.
    return !settledUnlocked({ doc: stored, assumed: null }, stored, rejected);
  });

  // Step 2: parse the other rows one by one, so one bad record does not stop the batch.
  const candidates = parseRows(changed, ctx.user, rejected);
  for (const [id, candidate] of candidates) {
    if (settledUnlocked(candidate, snapshot.get(id), rejected)) candidates.delete(id);
  }
  if (candidates.size === 0) {
    if (ids.length === 0) await noteIdlePush(db, ctx.user.siteId);
    return { conflicts: [], rejected };
  }

  // Step 3: a new record must name a dispenser of this site: the session's user, or a colleague
  // whose record is pushed from a shared device after a change of user (looked up, with when they
  // were disabled if they were: their records made after that are refused). The session's user is
  // active, or the token check had refused the request.
  const others = [...candidates.values()]
    .filter((c) => !snapshot.has(c.doc.externalId) && c.doc.dispensedBy !== ctx.user.username)
    .map((c) => c.doc.dispensedBy);
  for (const [name, disabledAt] of await usersOfSite(db, ctx.user.siteId, [...new Set(others)])) {
    dispensers.add(name);
    if (disabledAt) disabledSince.set(name, disabledAt);
  }
  // Who, which device, which request, and the device's clock offset as last measured (devices.ts).
  const auditArgs = [ctx.user.username, ctx.deviceId, ctx.requestId, ctx.user.siteId, ctx.deviceId];

  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (trx) => {
        const txRejected = [...rejected];
        const conflicts: Dispense[] = [];

        // Step 4: insert the records the server did not hold, with their audit rows. One the
        // server holds already (a re-send whose answer was lost, or one another request inserted
        // meanwhile) is left alone and comes back to be decided below.
        const insertable = [...candidates.values()]
          .filter((c) => !snapshot.has(c.doc.externalId) && decide(c, undefined, rules).kind === 'insert')
          .map((c) => c.doc);
        const created = new Set(insertable.map((d) => d.externalId));
        let inserted = 0;
        if (insertable.length > 0) {
          const onlyNew = insertable.length === candidates.size;
          const res = (await trx.raw(INSERT_SQL, [JSON.stringify(insertable), ...auditArgs, ctx.user.siteId, onlyNew])) as {
            rows: { external_id: string }[];
          };
          // Step 4b: every record was new and is in, and the site's push noted: nothing is left.
          if (onlyNew && res.rows.length === 0) {
            if (ctx.written) Object.assign(ctx.written, { inserted: insertable.length, updated: 0 });
            return { conflicts, rejected: txRejected };
          }
          for (const r of res.rows) created.delete(r.external_id);
          inserted = created.size;
        }

        // Step 5: a record that was not read in step 1 and not inserted now exists or was never
        // made: read it without locks; one equal to the pushed record is done, with no lock.
        const unread = [...candidates.keys()].filter((id) => !created.has(id) && !snapshot.has(id));
        const current = await readRecords(trx, unread, false);
        const rest = [...candidates.keys()].filter((id) => !created.has(id) && !settledUnlocked(candidates.get(id)!, current.get(id), txRejected));

        // Step 6: lock the records that exist and differ, and decide, row by row, what the push means.
        const existing = await readRecords(trx, rest, true);
        const updates: Update[] = [];
        for (const id of rest) {
          const decision = decide(candidates.get(id)!, existing.get(id), rules);
          if (decision.kind === 'rejected') txRejected.push(decision.rejection);
          else if (decision.kind === 'conflict') conflicts.push(decision.server);
          else if (decision.kind === 'update') updates.push(decision.update);
          // Step 4 inserted such a row or found it stored, and records are never deleted.
          else if (decision.kind === 'insert') throw new Error(`push: record ${id} neither inserted nor stored`);
          // Else unchanged: another request wrote this very state meanwhile, nothing to write.
        }

        // Step 7: write the changes and their audit rows (before, after, what changed).
        if (updates.length > 0) {
          await trx.raw(UPDATE_SQL, [JSON.stringify(updates), ...auditArgs]);
        }

        // Step 8: note the site's last push and the records inserted in step 4 (last statement:
        // its row lock is held only to commit).
        await noteSitePush(trx, ctx.user.siteId, inserted);
        if (ctx.written) Object.assign(ctx.written, { inserted, updated: updates.length });
        return { conflicts, rejected: txRejected };
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE.has(code)) continue;
      throw err;
    }
  }
}
