/**
 * A site's staff, managed by its admin (the Staff routes) and by an operator (the user command):
 * list, add, change role or display name, disable and enable, reset a password; and each user's
 * own password change. The guards: an admin neither disables nor demotes themselves, a site keeps
 * an active admin, another site's user is not found. Each action ends the sessions it must
 * (server/sessions.ts) and writes its admin log row (server/admin-log.ts) in one transaction.
 */
import type { Knex } from 'knex';
import type { LoginResponse, User } from '../schemas/api';
import type { NewStaffMember, PasswordChange, StaffChange, StaffMember } from '../schemas/staff';
import { logAdminAction, type Actor } from './admin-log';
import { checkPasswordAttempt, signedInAnswer } from './auth';
import type { Config } from './env';
import { AppError } from './errors';
import { checkNewPassword, hashPassword, normalizePassword } from './passwords';
import type { Limiters } from './rate-limit';
import { iso } from './records';
import { endUserSessions } from './sessions';

interface StaffRow {
  id: number;
  username: string;
  display_name: string;
  role: User['role'];
  disabled_at: Date | null;
  must_change_password: boolean;
  last_sign_in_at: Date | null;
}

const STAFF_COLUMNS = ['id', 'username', 'display_name', 'role', 'disabled_at', 'must_change_password', 'last_sign_in_at'];

const toMember = (r: StaffRow): StaffMember => ({
  username: r.username,
  displayName: r.display_name,
  role: r.role,
  disabled: r.disabled_at !== null,
  mustChangePassword: r.must_change_password,
  lastSignInAt: r.last_sign_in_at ? iso(r.last_sign_in_at) : null,
});

const notFound = () => new AppError(404, 'not_found', 'No such user at your site');

export async function listStaff(db: Knex, siteId: string): Promise<StaffMember[]> {
  const rows = (await db('users').select(STAFF_COLUMNS).where({ site_id: siteId }).orderBy('username')) as StaffRow[];
  return rows.map(toMember);
}

/** The site's user `username`, locked for the transaction; another site's user is not found. */
async function lockMember(trx: Knex, siteId: string, username: string): Promise<StaffRow> {
  const row = (await trx('users').select(STAFF_COLUMNS).where({ site_id: siteId, username }).forUpdate().first()) as StaffRow | undefined;
  if (!row) throw notFound();
  return row;
}

/**
 * Adds a user of the actor's site. `temporary`: the password was chosen by someone else (a site
 * admin in the app) and must be changed at the first sign-in.
 */
export async function addStaffMember(db: Knex, actor: Actor, body: NewStaffMember, opts: { temporary: boolean }): Promise<StaffMember> {
  checkNewPassword(body.password, body.username);
  const passwordHash = await hashPassword(body.password);
  const displayName = body.displayName ?? body.username;
  try {
    return await db.transaction(async (trx) => {
      const [row] = (await trx('users')
        .insert({
          username: body.username,
          display_name: displayName,
          site_id: actor.siteId,
          role: body.role,
          password_hash: passwordHash,
          must_change_password: opts.temporary,
        })
        .returning(STAFF_COLUMNS)) as StaffRow[];
      await logAdminAction(trx, actor, {
        action: 'user.create',
        target: body.username,
        details: { role: body.role, displayName, temporary: opts.temporary },
      });
      return toMember(row);
    });
  } catch (err) {
    // Usernames are unique across the server's sites.
    if ((err as { code?: string }).code === '23505') throw new AppError(409, 'username_taken', `The username "${body.username}" is taken`);
    throw err;
  }
}

/**
 * Changes a user's role, display name or whether they are disabled. A role change or a disable
 * ends all their sessions from the next request. An admin cannot disable or demote themselves,
 * and the last active admin of a site can be neither disabled nor demoted (409 last_admin).
 */
export async function changeStaffMember(db: Knex, actor: Actor, username: string, change: StaffChange): Promise<StaffMember> {
  return db.transaction(async (trx) => {
    // The site's active admins are locked first, in id order, so two admins demoting each other at
    // once are taken one after the other and the second sees the first's change.
    const admins = (await trx('users')
      .select('username')
      .where({ site_id: actor.siteId, role: 'admin' })
      .whereNull('disabled_at')
      .orderBy('id')
      .forUpdate()) as { username: string }[];
    const row = await lockMember(trx, actor.siteId, username);
    const disabling = change.disabled === true && row.disabled_at === null;
    const enabling = change.disabled === false && row.disabled_at !== null;
    const roleChanging = change.role !== undefined && change.role !== row.role;
    const losesAdmin = row.role === 'admin' && row.disabled_at === null && (disabling || (roleChanging && change.role !== 'admin'));
    if (losesAdmin && username === actor.username) {
      throw new AppError(409, 'cannot_change_self', 'You cannot disable or demote yourself; ask another admin of the site');
    }
    if (losesAdmin && admins.length <= 1) {
      throw new AppError(409, 'last_admin', `${username} is the last active admin of the site: make another user admin first`);
    }
    // An admin disabled or demoted by another while this request was on its way acts no more.
    if (!actor.operator && !admins.some((a) => a.username === actor.username)) {
      throw new AppError(403, 'forbidden', 'Only a site admin may do this');
    }
    const nameChanging = change.displayName !== undefined && change.displayName !== row.display_name;
    const updates: Record<string, unknown> = {};
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    if (roleChanging) [updates.role, before.role, after.role] = [change.role, row.role, change.role];
    if (nameChanging) [updates.display_name, before.displayName, after.displayName] = [change.displayName, row.display_name, change.displayName];
    if (disabling || enabling) {
      updates.disabled_at = disabling ? trx.fn.now() : null;
      [before.disabled, after.disabled] = [!disabling, disabling];
    }
    if (Object.keys(updates).length === 0) return toMember(row);
    const [updated] = (await trx('users').where({ id: row.id }).update(updates).returning(STAFF_COLUMNS)) as StaffRow[];
    if (disabling) await endUserSessions(trx, row.id, 'disabled');
    else if (roleChanging) await endUserSessions(trx, row.id, 'role_changed');
    await logAdminAction(trx, actor, { action: 'user.update', target: username, details: { before, after } });
    return toMember(updated);
  });
}

/**
 * Sets a user's password for them and ends all their sessions. `temporary`: they must change it
 * at their next sign-in (always so in the app; the user command's --temporary).
 */
export async function resetStaffPassword(db: Knex, actor: Actor, username: string, password: string, opts: { temporary: boolean }): Promise<void> {
  checkNewPassword(password, username);
  const passwordHash = await hashPassword(password);
  await db.transaction(async (trx) => {
    const row = await lockMember(trx, actor.siteId, username);
    await trx('users').where({ id: row.id }).update({ password_hash: passwordHash, must_change_password: opts.temporary });
    await endUserSessions(trx, row.id, 'password_reset');
    await logAdminAction(trx, actor, { action: 'user.password_reset', target: username, details: { temporary: opts.temporary } });
  });
}

/**
 * The signed-in user changes their own password: the current one is checked (counted against the
 * sign-in limit), every session of theirs ends, and the answer is a new sign-in on this device.
 */
export async function changeOwnPassword(
  db: Knex,
  deps: { config: Config; limiters: Limiters },
  who: { user: User; ip: string; deviceId: string | null; requestId: string | null },
  body: PasswordChange,
): Promise<LoginResponse> {
  const { user } = who;
  const found = await checkPasswordAttempt(db, deps.limiters, deps.config, { username: user.username, password: body.currentPassword, ip: who.ip });
  if (!found || found.id !== user.id) throw new AppError(403, 'wrong_password', 'The current password is wrong');
  checkNewPassword(body.newPassword, user.username);
  if (normalizePassword(body.newPassword) === normalizePassword(body.currentPassword)) {
    throw new AppError(400, 'weak_password', 'The new password must differ from the current one.');
  }
  const passwordHash = await hashPassword(body.newPassword);
  return db.transaction(async (trx) => {
    await trx('users').where({ id: user.id }).update({ password_hash: passwordHash, must_change_password: false });
    await endUserSessions(trx, user.id, 'password_changed');
    await logAdminAction(
      trx,
      { siteId: user.siteId, username: user.username, requestId: who.requestId },
      { action: 'user.password_change', target: user.username },
    );
    // Started in the same transaction as tokens_valid_after, so at the same instant: it stays valid.
    return signedInAnswer(trx, deps.config, user, who.deviceId, false);
  });
}
