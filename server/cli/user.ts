/**
 * `npm run user -- add <username> --site <siteId> [--role pharmacist|admin] [--name "Display Name"]`
 * The password is read from standard input (one line), never from the command line.
 */
import { parseArgs } from 'node:util';
import readline from 'node:readline';
import { z } from 'zod';
import { ROLES } from '../../schemas/api';
import { migrateLatest, openDatabase } from '../db';
import { parseEnv } from '../env';
import { passwordProblem } from '../passwords';
import { addUser } from '../users';

const USAGE = 'usage: npm run user -- add <username> --site <siteId> [--role pharmacist|admin] [--name "Display Name"]  (password on stdin)';

const argsSchema = z.object({
  command: z.literal('add', { error: USAGE }),
  username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'username: 1-64 letters, digits, . _ -'),
  site: z.string().min(1, '--site is required').max(64),
  role: z.enum(ROLES).default('pharmacist'),
  name: z.string().min(1).max(200).optional(),
});

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password: ');
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { site: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } },
  });
  const parsed = argsSchema.safeParse({ command: positionals[0], username: positionals[1], ...values });
  if (!parsed.success) throw new Error(`${parsed.error.issues.map((i) => i.message).join('\n')}\n${USAGE}`);
  const password = await readPassword();
  const weak = passwordProblem(password, parsed.data.username);
  if (weak) throw new Error(`${weak} (read from standard input)`);
  const config = parseEnv();
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SEMS_DATA_DIR });
  try {
    await migrateLatest(db);
    const a = parsed.data;
    const user = await addUser(db, { username: a.username, password, siteId: a.site, role: a.role, displayName: a.name });
    console.log(`Added ${user.role} "${user.username}" at site ${user.siteId}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: Error) => {
  const e = err as { code?: string };
  console.error(e.code === '23505' ? 'That username exists already' : err.message);
  process.exit(1);
});
