/** The users table: sign-in lookups, new users (the staff routes, the user command, tests) and the demo user of a new install. */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { User } from '../schemas/api';
import { hashPassword } from './passwords';
import { iso } from './records';

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  site_id: string;
  role: User['role'];
  password_hash: string;
  disabled_at: Date | null;
  must_change_password: boolean;
  last_sign_in_at: Date | null;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  displayName: r.display_name,
  siteId: r.site_id,
  role: r.role,
});

export interface LoginUser extends User {
  passwordHash: string;
  disabled: boolean;
  mustChangePassword: boolean;
}

export async function findUserForLogin(db: Knex, username: string): Promise<LoginUser | undefined> {
  const row = await db<UserRow>('users').where({ username }).first();
  return row && { ...toUser(row), passwordHash: row.password_hash, disabled: row.disabled_at !== null, mustChangePassword: row.must_change_password };
}

/** The usernames among `names` that are users of `siteId`, disabled or not, each with when it was disabled (ISO) or null. */
export async function usersOfSite(db: Knex, siteId: string, names: string[]): Promise<Map<string, string | null>> {
  if (names.length === 0) return new Map();
  const rows = await db<UserRow>('users').select('username', 'disabled_at').where({ site_id: siteId }).whereIn('username', names);
  return new Map(rows.map((r) => [r.username, r.disabled_at ? iso(r.disabled_at) : null]));
}

/**
 * The site's users who may sign in, each with a stamp that changes whenever their access does (a
 * password change or reset, a role change, a disable: users.tokens_valid_after). A device keeps
 * an offline verifier of a user only while the stamp it got at that user's sign-in is still theirs
 * here (client/offline/accounts.ts).
 */
export async function offlineAccessOf(db: Knex, siteId: string): Promise<Record<string, string>> {
  const { rows } = (await db.raw(
    `SELECT username, (extract(epoch FROM tokens_valid_after) * 1000000)::bigint::text AS stamp
     FROM users WHERE site_id = ? AND disabled_at IS NULL`,
    [siteId],
  )) as { rows: { username: string; stamp: string }[] };
  return Object.fromEntries(rows.map((r) => [r.username, r.stamp]));
}

export interface NewUser {
  username: string;
  password: string;
  siteId: string;
  role: User['role'];
  displayName?: string;
  /** A password someone else chose (a site admin, the user command's --temporary): changed at the next sign-in. */
  mustChangePassword?: boolean;
}

export async function addUser(db: Knex, u: NewUser): Promise<User> {
  const [row] = await db<UserRow>('users')
    .insert({
      username: u.username,
      display_name: u.displayName ?? u.username,
      site_id: u.siteId,
      role: u.role,
      password_hash: await hashPassword(u.password),
      must_change_password: u.mustChangePassword ?? false,
    })
    .returning('*');
  return toUser(row as UserRow);
}

/**
 * On an empty embedded database outside production (server/start.ts), makes a demo user and returns its password (shown once).
 * The demo user is the site's admin, so a new user sees the whole app, the admin view included.
 */
export async function ensureDemoUser(db: Knex): Promise<{ username: string; password: string; siteId: string } | null> {
  const [{ count }] = await db('users').count<{ count: number }[]>({ count: '*' });
  if (Number(count) > 0) return null;
  const demo = { username: 'demo', password: randomBytes(9).toString('base64url'), siteId: 'site-demo' };
  try {
    await addUser(db, { ...demo, role: 'admin', displayName: 'Demo Admin' });
  } catch (err) {
    // Instances starting together on a new database all saw it empty; one of them made the user.
    if ((err as { code?: string }).code === '23505') return null;
    throw err;
  }
  return demo;
}
