/**
 * Sessions: each sign-in is a row, and its token carries the row's id (`sid`), so access ends when
 * it should: at sign-out, when a site admin ends the session or revokes its device, and for all of
 * a user's sessions when the user is disabled, changes role or password, or has it reset
 * (users.tokens_valid_after). Each request reads its user, session and device in one statement,
 * the one the token check always made (docs/decisions/sessions.md).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { User } from '../schemas/api';
import type { Session } from '../schemas/staff';
import { iso } from './records';

/** Why a session ended, as kept in sessions.revoked_reason. */
export type EndReason = 'signed_out' | 'ended_by_admin' | 'password_changed' | 'password_reset' | 'role_changed' | 'disabled' | 'device_revoked';

/** What the user is told when a request of an ended session is refused. */
export const ENDED_MESSAGE: Record<EndReason, string> = {
  signed_out: 'This session was signed out; sign in again.',
  ended_by_admin: "The site's admin ended this session; sign in again.",
  password_changed: 'Your password was changed; sign in again with the new one.',
  password_reset: "Your password was reset by the site's admin; sign in with the password they give you.",
  role_changed: "Your role was changed by the site's admin; sign in again.",
  disabled: "Your account was disabled by the site's admin.",
  device_revoked: "This device was revoked by the site's admin; it can no longer sign in or sync.",
};

/** Starts a session of `user` on `deviceId` (null: the device did not say) that lasts `ttlSeconds`. */
export async function startSession(db: Knex, user: Pick<User, 'id' | 'siteId'>, deviceId: string | null, ttlSeconds: number): Promise<string> {
  const id = randomUUID();
  await db.raw(
    `WITH old AS (DELETE FROM sessions WHERE user_id = ? AND expires_at < now() - interval '1 day')
     INSERT INTO sessions (id, user_id, site_id, device_id, expires_at) VALUES (?, ?, ?, ?, now() + make_interval(secs => ?))`,
    [user.id, id, user.id, user.siteId, deviceId, ttlSeconds],
  );
  return id;
}

/** What one request's token check reads: the user, the state of the token's session, and whether the device is revoked. */
export interface TokenUser {
  user: User;
  disabled: boolean;
  mustChangePassword: boolean;
  /** The session has ended (or never existed); `reason` says why when it was ended on purpose. */
  ended: boolean;
  reason: EndReason | null;
  /** The device the request names (X-Device-Id) is revoked. */
  deviceRevoked: boolean;
  /** last_seen_at is over a minute old, or the session learns its device: worth a write. */
  touch: boolean;
}

interface TokenRow {
  id: number;
  username: string;
  display_name: string;
  site_id: string;
  role: User['role'];
  disabled: boolean;
  must_change_password: boolean;
  ended: boolean;
  reason: EndReason | null;
  device_revoked: boolean;
  touch: boolean;
}

// One statement, by primary keys: the user, the session (of that user only), and the device the
// request names, if revoked. A session on a revoked device was ended with it (endDeviceSessions);
// a session started before the user's tokens_valid_after has ended even if its own row was not
// marked (a sign-in racing a reset). Each join costs the statement's planning ~40-70 µs
// (bench/token-check.ts): an EXISTS over the session's device as well cost twice that, for nothing.
const TOKEN_USER_SQL = `
SELECT u.id, u.username, u.display_name, u.site_id, u.role, u.disabled_at IS NOT NULL AS disabled, u.must_change_password,
  (s.id IS NULL OR s.revoked_at IS NOT NULL OR s.created_at < u.tokens_valid_after) AS ended,
  s.revoked_reason AS reason,
  d.revoked_at IS NOT NULL AS device_revoked,
  (s.last_seen_at < now() - interval '1 minute' OR (s.device_id IS NULL AND ?::text IS NOT NULL)) IS TRUE AS touch
FROM users u
  LEFT JOIN sessions s ON s.id = ?::uuid AND s.user_id = u.id
  LEFT JOIN devices d ON d.site_id = u.site_id AND d.device_id = ?
WHERE u.id = ?`;

/** The token's user and session as one request sees them; undefined when the user no longer exists. */
export async function readTokenUser(db: Knex, userId: number, sessionId: string | null, deviceId: string | null): Promise<TokenUser | undefined> {
  const { rows } = (await db.raw(TOKEN_USER_SQL, [deviceId, sessionId, deviceId, userId])) as { rows: TokenRow[] };
  const r = rows[0];
  if (!r) return undefined;
  return {
    user: { id: r.id, username: r.username, displayName: r.display_name, siteId: r.site_id, role: r.role },
    disabled: r.disabled,
    mustChangePassword: r.must_change_password,
    ended: r.ended,
    reason: r.reason,
    deviceRevoked: r.device_revoked,
    touch: r.touch,
  };
}

/**
 * Notes that a session was seen (and, the first time a request names it, on which device). At
 * most once a minute per session, so the requests in between write nothing.
 */
export async function touchSession(db: Knex, sessionId: string, deviceId: string | null): Promise<void> {
  await db.raw('UPDATE sessions SET last_seen_at = now(), device_id = COALESCE(device_id, ?) WHERE id = ?', [deviceId, sessionId]);
}

/** Ends one session; false when it was not a live session of `siteId`. */
export async function endSession(db: Knex, sessionId: string, reason: EndReason, siteId?: string): Promise<boolean> {
  const q = db('sessions').where({ id: sessionId }).whereNull('revoked_at');
  if (siteId !== undefined) q.andWhere({ site_id: siteId });
  return (await q.update({ revoked_at: db.fn.now(), revoked_reason: reason })) > 0;
}

/** Ends every session of a user from the next request (in the caller's transaction). */
export async function endUserSessions(trx: Knex, userId: number, reason: EndReason): Promise<void> {
  await trx('users').where({ id: userId }).update({ tokens_valid_after: trx.fn.now() });
  await trx('sessions').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: trx.fn.now(), revoked_reason: reason });
}

/** Ends every session on a device of the site; how many were live. */
export async function endDeviceSessions(trx: Knex, siteId: string, deviceId: string): Promise<number> {
  return trx('sessions')
    .where({ site_id: siteId, device_id: deviceId })
    .whereNull('revoked_at')
    .update({ revoked_at: trx.fn.now(), revoked_reason: 'device_revoked' });
}

interface SessionRow {
  id: string;
  username: string;
  display_name: string;
  device_id: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/** The site's live sessions, the most recently seen first; `current` marks the asking request's. */
export async function listSessions(db: Knex, siteId: string, currentId: string | null): Promise<Session[]> {
  const { rows } = (await db.raw(
    `SELECT s.id, u.username, u.display_name, s.device_id, s.created_at, s.last_seen_at, s.expires_at
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.site_id = ? AND s.revoked_at IS NULL AND s.expires_at > now()
       AND s.created_at >= u.tokens_valid_after AND u.disabled_at IS NULL
     ORDER BY s.last_seen_at DESC, s.id`,
    [siteId],
  )) as { rows: SessionRow[] };
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    deviceId: r.device_id,
    startedAt: iso(r.created_at),
    lastSeenAt: iso(r.last_seen_at),
    expiresAt: iso(r.expires_at),
    current: r.id === currentId,
  }));
}
