/**
 * The user command, an operator's way to do what a site admin does in the app's Staff tab:
 *
 *   npm run user -- list [--site <siteId>]
 *   npm run user -- add <username> --site <siteId> [--role pharmacist|admin] [--name "Display Name"] [--temporary]
 *   npm run user -- disable <username>        npm run user -- enable <username>
 *   npm run user -- set-role <username> <pharmacist|admin>
 *   npm run user -- reset-password <username> [--temporary]
 *
 * A password is read from standard input (one line), never from the command line. It is the
 * operator's own choice, so it is not marked to be changed, unless --temporary says so. The same
 * rules as the app's apply (server/staff.ts): the password rules, a site keeps an active admin,
 * every action goes to the site's admin log, as done by `cli:<login>`.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import readline from 'node:readline';
import type { Knex } from 'knex';
import { z } from 'zod';
import { ROLES } from '../../schemas/api';
import { usernameSchema } from '../../schemas/staff';
import type { Actor } from '../admin-log';
import { migrateLatest, openDatabase } from '../db';
import { parseEnv } from '../env';
import { AppError } from '../errors';
import { passwordProblem } from '../passwords';
import { addStaffMember, changeStaffMember, listStaff, resetStaffPassword } from '../staff';

const USAGE = `usage: npm run user -- <command>
  list [--site <siteId>]
  add <username> --site <siteId> [--role pharmacist|admin] [--name "Display Name"] [--temporary]   (password on stdin)
  disable <username>
  enable <username>
  set-role <username> <pharmacist|admin>
  reset-password <username> [--temporary]   (password on stdin)`;

const username = usernameSchema;
const site = z.string().min(1, '--site is required').max(64);
const commandSchema = z.discriminatedUnion(
  'command',
  [
    z.object({ command: z.literal('list'), site: site.optional() }),
    z.object({
      command: z.literal('add'),
      username,
      site,
      role: z.enum(ROLES, { error: USAGE }).default('pharmacist'),
      name: z.string().min(1).max(200).optional(),
      temporary: z.boolean().default(false),
    }),
    z.object({ command: z.literal('disable'), username }),
    z.object({ command: z.literal('enable'), username }),
    z.object({ command: z.literal('set-role'), username, role: z.enum(ROLES, { error: USAGE }) }),
    z.object({ command: z.literal('reset-password'), username, temporary: z.boolean().default(false) }),
  ],
  { error: USAGE },
);
type Command = z.infer<typeof commandSchema>;

async function readPassword(username: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  let password = '';
  for await (const line of rl) {
    password = line;
    break;
  }
  rl.close();
  const weak = passwordProblem(password, username);
  if (weak) throw new Error(`${weak} (read from standard input)`);
  return password;
}

/** The operator acting on `username`'s site; an unknown user stops the command. */
async function operatorAt(db: Knex, username: string): Promise<Actor> {
  const row = (await db('users').select('site_id').where({ username }).first()) as { site_id: string } | undefined;
  if (!row) throw new Error(`No user "${username}"`);
  return { siteId: row.site_id, username: `cli:${os.userInfo().username}`.slice(0, 64), requestId: null, operator: true };
}

async function run(db: Knex, c: Command): Promise<string> {
  switch (c.command) {
    case 'list': {
      const sites = c.site ? [c.site] : ((await db('users').distinct('site_id').orderBy('site_id')) as { site_id: string }[]).map((r) => r.site_id);
      const lines = ['site\tusername\trole\tstatus\tlast sign-in\tdisplay name'];
      for (const s of sites) {
        for (const u of await listStaff(db, s)) {
          const status = u.disabled ? 'disabled' : u.mustChangePassword ? 'must change password' : 'active';
          lines.push([s, u.username, u.role, status, u.lastSignInAt ?? 'never', u.displayName].join('\t'));
        }
      }
      return lines.join('\n');
    }
    case 'add': {
      const password = await readPassword(c.username);
      const actor: Actor = { siteId: c.site, username: `cli:${os.userInfo().username}`.slice(0, 64), requestId: null, operator: true };
      const body = { username: c.username, displayName: c.name, role: c.role, password };
      const user = await addStaffMember(db, actor, body, { temporary: c.temporary });
      return `Added ${user.role} "${user.username}" at site ${c.site}${c.temporary ? ' (to change the password at the first sign-in)' : ''}`;
    }
    case 'disable':
    case 'enable': {
      await changeStaffMember(db, await operatorAt(db, c.username), c.username, { disabled: c.command === 'disable' });
      return `${c.command === 'disable' ? 'Disabled' : 'Enabled'} "${c.username}"${c.command === 'disable' ? '; their sessions have ended' : ''}`;
    }
    case 'set-role': {
      const user = await changeStaffMember(db, await operatorAt(db, c.username), c.username, { role: c.role });
      return `"${user.username}" is now ${user.role}`;
    }
    case 'reset-password': {
      const actor = await operatorAt(db, c.username);
      const password = await readPassword(c.username);
      await resetStaffPassword(db, actor, c.username, password, { temporary: c.temporary });
      return `Set a new password for "${c.username}"; their sessions have ended${c.temporary ? '; it must be changed at the next sign-in' : ''}`;
    }
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { site: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, temporary: { type: 'boolean' } },
  });
  const [command, user, role] = positionals;
  const parsed = commandSchema.safeParse({ command, username: user, ...values, ...(command === 'set-role' ? { role } : {}) });
  if (!parsed.success) throw new Error(`${[...new Set(parsed.error.issues.map((i) => i.message))].join('\n')}\n${USAGE}`);
  const config = parseEnv();
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SEMS_DATA_DIR });
  try {
    await migrateLatest(db);
    console.log(await run(db, parsed.data));
  } finally {
    await db.destroy();
  }
}

main().catch((err: Error) => {
  // The same words as the app's answers; a taken username as scripts have always read it.
  console.error(err instanceof AppError && err.code === 'username_taken' ? 'That username exists already' : err.message);
  process.exit(1);
});
