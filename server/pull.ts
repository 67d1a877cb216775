/**
 * The pull: a site's records for its devices, after an opaque checkpoint. A device's first pull
 * walks the window (records dispensed in the last PULL_WINDOW_DAYS, newest first) as it stood at
 * a horizon; then come every change of the site since that horizon, in change order, whatever
 * the record's age. Why the change order is read only below the oldest transaction still in
 * progress, and what the window means: docs/decisions/pull-checkpoint.md.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { pullQuerySchema, type PullResponse } from '../schemas/api';
import { dispenseShape, isoInstant, type Dispense } from '../schemas/dispense';
import { recordColumns, rowToDispense, type DispenseRow } from './records';

// A transaction id (xid8) as decimal text; a real one is far below 2^63. One check: zod runs a
// refinement even after a failed regex, and BigInt throws on text that is not a number.
const xid = z.string().refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) < 2n ** 63n, 'Not a transaction id');
const uuid = dispenseShape.externalId;

const checkpointShape = z.union([
  // The first pull's phase: the window's records whose last change is below horizon h (all of
  // them committed when the device began), newest first; `after` is the last one sent.
  // `t`: how many records the window holds (counted once, at the first page); `n`: how many were sent.
  z.strictObject({
    w: z.strictObject({
      h: xid,
      since: isoInstant(),
      after: z.tuple([isoInstant(), uuid]).optional(),
      t: z.number().int().min(0).max(1e9).optional(),
      n: z.number().int().min(0).max(1e9).optional(),
    }),
  }),
  // Then the site's changes: those after (x, id) in change order, or from x on when there is no id.
  z.strictObject({ c: z.strictObject({ x: xid, id: uuid.optional() }) }),
]);
type Checkpoint = z.infer<typeof checkpointShape>;
type Changes = Extract<Checkpoint, { c: unknown }>['c'];
type Window = Extract<Checkpoint, { w: unknown }>['w'];

/** The checkpoint's text: base64url of its JSON. Anything else is a 400 (a ZodError), never a failed query. */
const checkpointText = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'Invalid checkpoint' });
      return z.NEVER;
    }
  })
  .pipe(checkpointShape);

const encode = (c: Checkpoint): string => Buffer.from(JSON.stringify(c)).toString('base64url');

export interface PullQuery {
  checkpoint: Checkpoint | null;
  /** The checkpoint as sent, given back unchanged by a pull that finds nothing. */
  sent: string | null;
  limit: number;
}

/** The query string, checked: a malformed checkpoint or limit throws a ZodError (400). */
export function parsePullQuery(query: unknown): PullQuery {
  const q = pullQuerySchema.parse(query);
  if (!q.checkpoint) return { checkpoint: null, sent: null, limit: q.limit };
  const { checkpoint } = z.object({ checkpoint: checkpointText }).parse({ checkpoint: q.checkpoint });
  return { checkpoint, sent: q.checkpoint, limit: q.limit };
}

const COLUMNS = recordColumns('d');

// The window, newest first, along dispenses_site_dispensed_at (the list's index).
const windowSql = (after: boolean) => `SELECT ${COLUMNS} FROM dispenses d
  WHERE d.site_id = ? AND d.dispensed_at >= ?::timestamptz AND d.change_xid < ?::xid8
  ${after ? 'AND (d.dispensed_at, d.external_id) < (?::timestamptz, ?::uuid)' : ''}
  ORDER BY d.dispensed_at DESC, d.external_id DESC LIMIT ?`;

// The changes, along dispenses_site_change. A transaction below the snapshot's xmin has ended, so
// no row can ever appear behind the last one read; a row of a transaction still in progress, or of
// one that committed after it began, waits until every older transaction has ended.
const changesSql = (after: boolean) => `SELECT ${COLUMNS}, d.change_xid::text AS change_xid FROM dispenses d
  WHERE d.site_id = ? AND d.change_xid < pg_snapshot_xmin(pg_current_snapshot())
  AND ${after ? '(d.change_xid, d.external_id) > (?::xid8, ?::uuid)' : 'd.change_xid >= ?::xid8'}
  ORDER BY d.change_xid, d.external_id LIMIT ?`;

async function readWindow(db: Knex, siteId: string, w: Window, limit: number): Promise<DispenseRow[]> {
  const args = [siteId, w.since, w.h, ...(w.after ?? []), limit];
  return ((await db.raw(windowSql(!!w.after), args)) as { rows: DispenseRow[] }).rows;
}

async function readChanges(db: Knex, siteId: string, c: Changes, limit: number) {
  const args = [siteId, c.x, ...(c.id ? [c.id] : []), limit];
  return ((await db.raw(changesSql(!!c.id), args)) as { rows: (DispenseRow & { change_xid: string })[] }).rows;
}

/**
 * True when a checkpoint's transaction id was never given out by this PostgreSQL: the database
 * was restored into a new server (pg_dump and restore), whose ids start again from low numbers.
 * An id a pull sent was below the oldest transaction in progress then, so below every id given
 * out since.
 */
async function fromAnotherServer(db: Knex, c: Changes): Promise<boolean> {
  const { rows } = (await db.raw('SELECT ?::xid8 >= pg_snapshot_xmax(pg_current_snapshot()) AS ahead', [c.x])) as { rows: { ahead: boolean }[] };
  return rows[0].ahead;
}

/**
 * A first pull's checkpoint: the window from now, as of the oldest transaction still in progress,
 * with how many records it holds (one count along the window's index, for the device's progress bar).
 */
async function startWindow(db: Knex, siteId: string, windowDays: number): Promise<Checkpoint> {
  const since = new Date(Date.now() - windowDays * 86_400_000).toISOString();
  const { rows } = (await db.raw(
    `SELECT h::text AS h, (SELECT count(*) FROM dispenses d WHERE d.site_id = ? AND d.dispensed_at >= ?::timestamptz AND d.change_xid < h)::int AS t
       FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS h) s`,
    [siteId, since],
  )) as { rows: { h: string; t: number }[] };
  return { w: { h: rows[0].h, since, t: rows[0].t, n: 0 } };
}

export async function pullDispenses(db: Knex, siteId: string, query: PullQuery, windowDays: number): Promise<PullResponse> {
  const { limit } = query;
  let checkpoint = query.checkpoint ?? (await startWindow(db, siteId, windowDays));
  const documents: Dispense[] = [];
  // A pull of changes that finds none gives back the checkpoint it was sent, character for character.
  const unchanged = 'c' in checkpoint ? query.sent : null;
  let windowDone: PullResponse['window'];
  if ('w' in checkpoint) {
    const rows = await readWindow(db, siteId, checkpoint.w, limit);
    documents.push(...rows.map(rowToDispense));
    const last = documents[documents.length - 1];
    const sent = (checkpoint.w.n ?? 0) + rows.length;
    const window = checkpoint.w.t === undefined ? undefined : { sent: Math.min(sent, checkpoint.w.t), total: checkpoint.w.t };
    if (last && documents.length === limit) {
      return { documents, checkpoint: encode({ w: { ...checkpoint.w, after: [last.dispensedAt, last.externalId], n: sent } }), window };
    }
    if (window) windowDone = { sent: window.total, total: window.total };
    // The window is done: the changes since its horizon fill the rest of the page, so a short
    // page always means the device has caught up.
    checkpoint = { c: { x: checkpoint.w.h } };
  }
  const rows = await readChanges(db, siteId, checkpoint.c, limit - documents.length);
  documents.push(...rows.map(rowToDispense));
  const last = rows[rows.length - 1];
  const done = windowDone ? { window: windowDone } : {};
  if (last) return { documents, checkpoint: encode({ c: { x: last.change_xid, id: last.external_id as string } }), ...done };
  // Nothing after the checkpoint: checked only then (an idle device's pull), one cheap query.
  // A checkpoint of a server the database was restored from begins again as a first pull.
  if (unchanged && (await fromAnotherServer(db, checkpoint.c))) return pullDispenses(db, siteId, { checkpoint: null, sent: null, limit }, windowDays);
  return { documents, checkpoint: unchanged ?? encode(checkpoint), ...done };
}
