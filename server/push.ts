/**
 * The push endpoint's domain logic: RxDB push rows in, conflicts and rejections out.
 * One transaction per batch, set-based SQL (a statement per step, not per record), an audit
 * row for every record created or changed and none for a row the server already holds.
 * Each row's state is kept in one map (push-rows.ts); the steps below move rows through it.
 */
import type { Knex } from 'knex';
import type { PushResponse, PushRow, User } from '../schemas/api';
import { CLOCK_AHEAD_LIMIT_MS } from '../schemas/devices';
import type { Rules } from './push-decision';
import {
  answer,
  candidateOf,
  decideRows,
  decidedTo,
  idOf,
  markWritten,
  parseRows,
  receive,
  rowsWhere,
  stands,
  takeResent,
  updateOf,
  writtenCount,
  type PushRows,
} from './push-rows';
import { INSERT_SQL, notePush, readRecords, UPDATE_SQL, type PushingDevice } from './push-sql';
import { usersOfSite } from './users';

export interface PushContext {
  user: User;
  deviceId: string | null;
  requestId: string;
  /** The request's User-Agent header, noted with the device's push. */
  userAgent?: string | null;
  /** How far ahead of the server's clock an instant may be (default CLOCK_AHEAD_LIMIT_MS, CLOCK_AHEAD_LIMIT_MINUTES). */
  clockAheadLimitMs?: number;
  /** Filled with what the committed transaction wrote, for the metrics. */
  written?: { inserted: number; updated: number };
}

const RETRYABLE = new Set(['40P01', '40001']); // deadlock, serialization failure
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function pushDispenses(db: Knex, ctx: PushContext, batch: PushRow[]): Promise<PushResponse> {
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
  const rows = receive(batch);

  // Step 1: a row with an assumed state is an edit, or a re-send of a record the server may
  // hold: read those records, without locks. A row equal to its stored record (which was valid
  // when stored) needs no parse and, decided in step 2, no write: a re-push after a lost
  // checkpoint costs one read. A row new on the client (no assumed state) is not read: step 4
  // inserts it, and only if the server holds it already is it read and compared there.
  const assumedIds = batch
    .filter((r) => r.assumedMasterState)
    .map((r) => r.newDocumentState.externalId)
    .filter((id): id is string => typeof id === 'string' && UUID.test(id));
  const snapshot = await readRecords(db, [...new Set(assumedIds)], false);
  takeResent(rows, snapshot);

  // Step 2: parse the other rows one by one, so one bad record does not stop the batch; decide
  // those read in step 1 (only a decision that stands without a lock is final).
  parseRows(rows, ctx.user);
  decideRows(
    rows,
    rowsWhere(rows, (s) => s.at === 'validated' && snapshot.has(s.candidate.doc.externalId)),
    snapshot,
    'read',
    rules,
  );
  if (rowsWhere(rows, (s) => !stands(s)).length === 0) return close(db, ctx, rows);

  // Step 3: a new record must name a dispenser of this site: the session's user, or a colleague
  // whose record is pushed from a shared device after a change of user (looked up, with when they
  // were disabled if they were: their records made after that are refused). The session's user is
  // active, or the token check had refused the request.
  const others = rowsWhere(rows, (s) => s.at === 'validated' && s.candidate.doc.dispensedBy !== ctx.user.username);
  const named = new Set(others.map((i) => candidateOf(rows, i).doc.dispensedBy));
  for (const [name, disabledAt] of await usersOfSite(db, ctx.user.siteId, [...named])) {
    dispensers.add(name);
    if (disabledAt) disabledSince.set(name, disabledAt);
  }

  for (let attempt = 1; ; attempt++) {
    try {
      // Each attempt starts from the rows as steps 1-3 left them.
      return await db.transaction((trx) => write(trx, ctx, new Map(rows), rules));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (attempt < 3 && code && RETRYABLE.has(code)) continue;
      throw err;
    }
  }
}

async function write(trx: Knex.Transaction, ctx: PushContext, rows: PushRows, rules: Rules): Promise<PushResponse> {
  // Who, which device, which request, and the device's clock offset as last measured (devices.ts).
  const auditArgs = [ctx.user.username, ctx.deviceId, ctx.requestId, ctx.user.siteId, ctx.deviceId];

  // Step 4: decide the rows not read yet as new records, and insert them with their audit rows.
  // One the server holds already (a re-send whose answer was lost, or one another request
  // inserted meanwhile) is left alone and is read in step 5.
  decideRows(
    rows,
    rowsWhere(rows, (s) => s.at === 'validated'),
    new Map(),
    'absent',
    rules,
  );
  const insertable = decidedTo(rows, 'insert', 'absent');
  if (insertable.length > 0) {
    const docs = insertable.map((i) => candidateOf(rows, i).doc);
    const res = (await trx.raw(INSERT_SQL, [JSON.stringify(docs), ...auditArgs])) as { rows: { external_id: string }[] };
    const held = new Set(res.rows.map((r) => r.external_id));
    markWritten(
      rows,
      insertable.filter((i) => !held.has(idOf(rows, i))),
      'insert',
    );
  }

  // Step 5: a row decided as new and not inserted now exists or was never made: read it without
  // locks; one equal to the pushed record is done, with no lock.
  await decideOnStored(
    trx,
    rows,
    rowsWhere(rows, (s) => s.at === 'decided' && s.seen === 'absent'),
    'read',
    rules,
  );

  // Step 6: lock the records whose decision on a read does not stand, and decide them again.
  await decideOnStored(
    trx,
    rows,
    rowsWhere(rows, (s) => !stands(s)),
    'locked',
    rules,
  );
  // Step 4 inserted such a row or found it stored, and records are never deleted.
  const lost = decidedTo(rows, 'insert', 'locked');
  if (lost.length > 0) throw new Error(`push: record ${idOf(rows, lost[0])} neither inserted nor stored`);

  // Step 7: write the changes and their audit rows (before, after, what changed). A row decided
  // unchanged was written by another request meanwhile: nothing to write.
  const updates = decidedTo(rows, 'update', 'locked');
  if (updates.length > 0) {
    await trx.raw(UPDATE_SQL, [JSON.stringify(updates.map((i) => updateOf(rows, i))), ...auditArgs]);
    markWritten(rows, updates, 'update');
  }
  return close(trx, ctx, rows);
}

/** Reads the stored records of rows `which` (locked: 'locked') and decides each on what it found. */
async function decideOnStored(trx: Knex.Transaction, rows: PushRows, which: number[], seen: 'read' | 'locked', rules: Rules): Promise<void> {
  const stored = await readRecords(
    trx,
    which.map((i) => idOf(rows, i)),
    seen === 'locked',
  );
  decideRows(rows, which, stored, seen, rules);
}

/**
 * Step 8: note the site's push and the device's, in one statement; in the transaction of a push
 * that writes, its last (the site's row lock is held only to commit), with the records inserted.
 */
async function close(q: Knex, ctx: PushContext, rows: PushRows): Promise<PushResponse> {
  const inTransaction = q.isTransaction === true;
  const inserted = writtenCount(rows, 'insert');
  const device: PushingDevice | null = ctx.deviceId
    ? { deviceId: ctx.deviceId, username: ctx.user.username, userAgent: ctx.userAgent ?? null }
    : null;
  await notePush(q, ctx.user.siteId, inTransaction ? inserted : null, device);
  if (ctx.written) Object.assign(ctx.written, { inserted, updated: writtenCount(rows, 'update') });
  return answer(rows);
}
