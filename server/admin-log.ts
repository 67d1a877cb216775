/**
 * The admin log: one row per action a site admin (or the user command) takes on the site's staff,
 * sessions and devices, written in the action's transaction. Append-only: a trigger refuses every
 * UPDATE, DELETE and TRUNCATE (migrations/20261207000030_access.ts). Read newest first, in keyset pages.
 */
import type { Knex } from 'knex';
import type { AdminLogEntry, AdminLogPage } from '../schemas/staff';
import { iso } from './records';

/** Who acted and where: a site admin's request, or an operator's user command (`operator`, named `cli:<login>`). */
export interface Actor {
  siteId: string;
  username: string;
  requestId: string | null;
  operator?: boolean;
}

export interface AdminAction {
  action: AdminLogEntry['action'];
  target: string | null;
  details?: Record<string, unknown>;
}

export async function logAdminAction(trx: Knex, actor: Actor, a: AdminAction): Promise<void> {
  await trx('admin_log').insert({
    site_id: actor.siteId,
    actor: actor.username,
    action: a.action,
    target: a.target,
    details: JSON.stringify(a.details ?? {}),
    request_id: actor.requestId,
  });
}

interface LogRow {
  id: string | number;
  actor: string;
  action: AdminLogEntry['action'];
  target: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

/** A page of the site's admin log, newest first; `cursor` is the previous page's nextCursor. */
export async function readAdminLog(db: Knex, siteId: string, q: { limit: number; cursor?: string }): Promise<AdminLogPage> {
  const query = db('admin_log')
    .select('id', 'actor', 'action', 'target', 'details', 'created_at')
    .where({ site_id: siteId })
    .orderBy('id', 'desc')
    .limit(q.limit + 1);
  if (q.cursor) query.andWhere('id', '<', q.cursor);
  const rows = (await query) as LogRow[];
  const page = rows.slice(0, q.limit);
  const entries = page.map((r) => ({
    id: String(r.id),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details,
    createdAt: iso(r.created_at),
  }));
  return { entries, nextCursor: rows.length > q.limit ? entries[entries.length - 1].id : null };
}
