import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest, openDatabase } from '../../server/db';
import { parseEnv } from '../../server/env';
import { createLogger } from '../../server/logging';
import { verifyPassword } from '../../server/passwords';
import { startServer } from '../../server/start';
import { ensureDemoUser, findUserForLogin } from '../../server/users';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, type TestServer } from '../support/server';
import { call } from '../support/api';
import { openCounter } from './counter';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const databases: TestDatabase[] = [];
const servers: TestServer[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of databases) await d.drop();
});

async function freshDatabase(): Promise<TestDatabase> {
  const d = await createTestDatabase();
  databases.push(d);
  return d;
}

/** `npm run user -- <args>` as the README gives it: npx tsx server/cli/user.ts, the password on stdin. */
function userCommand(args: string[], stdin: string, databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'server/cli/user.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'development' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('npm run user -- add', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(); // not migrated: the command migrates it
  });

  test('it adds a user with the password read from stdin, and that user signs in over HTTP', async () => {
    const res = await userCommand(
      ['add', 'alice', '--site', 'site-x', '--role', 'admin', '--name', 'Alice Admin'],
      'a-long-secret-1\n',
      database.url,
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Added admin "alice" at site site-x');
    expect(res.stdout + res.stderr).not.toContain('a-long-secret-1');

    const server = await startTestServer({}, { database });
    servers.push(server);
    const login = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'a-long-secret-1' } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ username: 'alice', displayName: 'Alice Admin', siteId: 'site-x', role: 'admin' });
    const wrong = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'a-long-secret-1\n' } });
    expect(wrong.status).toBe(401);

    const counter = openCounter(database.url);
    const users = await counter.query('SELECT username, password_hash FROM users');
    await counter.close();
    // The server found a user already, so it made no demo user; the password is stored hashed.
    expect(users).toEqual([{ username: 'alice', password_hash: expect.stringMatching(/^scrypt\$/) }]);
  });

  test('the role defaults to pharmacist', async () => {
    const res = await userCommand(['add', 'bob', '--site', 'site-x'], 'another-secret\n', database.url);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Added pharmacist "bob" at site site-x');
  });

  test.each([
    ['the username exists already', ['add', 'alice', '--site', 'site-x'], 'a-long-secret-2\n', /That username exists already/],
    ['the password is shorter than 8 characters', ['add', 'carol', '--site', 'site-x'], 'short\n', /at least 8 characters/],
    ['stdin is empty', ['add', 'carol', '--site', 'site-x'], '', /at least 8 characters/],
    ['--site is missing', ['add', 'carol'], 'a-long-secret-3\n', /--site is required|usage/],
    ['the role is unknown', ['add', 'carol', '--site', 'site-x', '--role', 'god'], 'a-long-secret-3\n', /usage/],
    ['the command is not add', ['remove', 'alice'], '', /usage/],
  ])('when %s, it exits 1 with the reason and adds nobody', async (_what, args, stdin, reason) => {
    const res = await userCommand(args, stdin, database.url);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(reason);
    const counter = openCounter(database.url);
    const users = await counter.query('SELECT username FROM users ORDER BY username');
    await counter.close();
    expect(users.map((u) => u.username)).toEqual(['alice', 'bob']);
  });
});

describe('npm run user -- list, disable, enable, set-role, reset-password', () => {
  let database: TestDatabase;
  let server: TestServer;
  const ok = async (args: string[], stdin = '') => {
    const res = await userCommand(args, stdin, database.url);
    if (res.code !== 0) throw new Error(`${args.join(' ')}: exit ${res.code}: ${res.stderr}`);
    return res.stdout;
  };
  const signIn = (username: string, password: string) => call(server.url, 'POST', '/api/auth/login', { body: { username, password } });

  beforeAll(async () => {
    database = await freshDatabase();
    await ok(['add', 'olga', '--site', 'site-o', '--role', 'admin', '--name', 'Olga Admin'], 'olga-first-secret\n');
    await ok(['add', 'oscar', '--site', 'site-o'], 'oscar-first-secret\n');
    await ok(['add', 'quinn', '--site', 'site-q'], 'quinn-first-secret\n');
    server = await startTestServer({}, { database });
    servers.push(server);
  });

  test('list shows each user with site, role and status; --site only that site', async () => {
    const all = await ok(['list']);
    expect(all).toMatch(/^site\tusername\trole\tstatus/);
    expect(all).toMatch(/site-o\tolga\tadmin\tactive\tnever\tOlga Admin/);
    expect(all).toMatch(/site-q\tquinn\tpharmacist\tactive/);
    expect(await ok(['list', '--site', 'site-o'])).not.toContain('quinn');
  });

  test("a password added on stdin is the operator's choice: not marked to be changed", async () => {
    const r = await signIn('oscar', 'oscar-first-secret');
    expect(r.status).toBe(200);
    expect(r.body.mustChangePassword).toBe(false);
  });

  test('disable ends the sessions and refuses the sign-in; enable lets the user sign in again', async () => {
    const { token } = (await signIn('oscar', 'oscar-first-secret')).body;
    expect(await ok(['disable', 'oscar'])).toContain('Disabled "oscar"');
    expect((await call(server.url, 'GET', '/api/auth/me', { token })).body.error.code).toBe('user_disabled');
    expect((await signIn('oscar', 'oscar-first-secret')).body.error.code).toBe('user_disabled');
    expect(await ok(['list', '--site', 'site-o'])).toMatch(/oscar\tpharmacist\tdisabled/);
    await ok(['enable', 'oscar']);
    expect((await signIn('oscar', 'oscar-first-secret')).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/auth/me', { token })).body.error.code).toBe('token_revoked');
  });

  test('set-role changes the role and ends the sessions; the last active admin of a site cannot be demoted or disabled', async () => {
    const { token } = (await signIn('oscar', 'oscar-first-secret')).body;
    expect(await ok(['set-role', 'oscar', 'admin'])).toContain('"oscar" is now admin');
    expect((await call(server.url, 'GET', '/api/auth/me', { token })).body.error.code).toBe('token_revoked');
    await ok(['set-role', 'oscar', 'pharmacist']);
    for (const args of [
      ['disable', 'olga'],
      ['set-role', 'olga', 'pharmacist'],
    ]) {
      const res = await userCommand(args, '', database.url);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/last active admin/);
    }
    expect(await ok(['list', '--site', 'site-o'])).toMatch(/olga\tadmin\tactive/);
  });

  test('reset-password sets the password from stdin, unmarked; with --temporary it must be changed at the next sign-in', async () => {
    const { token } = (await signIn('quinn', 'quinn-first-secret')).body;
    await ok(['reset-password', 'quinn'], 'quinn-second-secret\n');
    expect((await call(server.url, 'GET', '/api/auth/me', { token })).body.error.code).toBe('token_revoked');
    expect((await signIn('quinn', 'quinn-first-secret')).status).toBe(401);
    expect((await signIn('quinn', 'quinn-second-secret')).body.mustChangePassword).toBe(false);
    expect(await ok(['reset-password', 'quinn', '--temporary'], 'quinn-third-secret\n')).toMatch(/must be changed/);
    expect((await signIn('quinn', 'quinn-third-secret')).body.mustChangePassword).toBe(true);
    expect(await ok(['list', '--site', 'site-q'])).toMatch(/quinn\tpharmacist\tmust change password/);
  });

  test.each([
    ['a common password', ['reset-password', 'quinn'], 'password123\n', /commonly used/],
    ['a password of 5 characters', ['reset-password', 'quinn'], 'Quinn\n', /at least 8 characters/],
    ['the username as a long password', ['add', 'longname', '--site', 'site-q'], 'LongName\n', /not be the username/],
    ['an unknown user', ['disable', 'nobody'], '', /No user "nobody"/],
    ['an unknown role', ['set-role', 'quinn', 'owner'], '', /usage/],
    ['no username', ['enable'], '', /usage/],
  ])('with %s, it exits 1 with the reason and changes nothing', async (_what, args, stdin, reason) => {
    const before = await ok(['list']);
    const res = await userCommand(args, stdin, database.url);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(reason);
    expect(await ok(['list'])).toBe(before);
  });

  test("each command's action is in the site's admin log, done by cli:<login>", async () => {
    const counter = openCounter(database.url);
    const rows = await counter.query("SELECT actor, action, target FROM admin_log WHERE site_id = 'site-o' ORDER BY id");
    await counter.close();
    expect(rows.map((r) => `${r.action} ${r.target}`)).toEqual([
      'user.create olga',
      'user.create oscar',
      'user.update oscar',
      'user.update oscar',
      'user.update oscar',
      'user.update oscar',
    ]);
    for (const r of rows) expect(r.actor).toMatch(/^cli:/);
  });
});

describe('the demo user of a new install', () => {
  test('on an empty database it is made once, with a random password that verifies; on a database with users, never', async () => {
    const database = await freshDatabase();
    const db = await openDatabase({ url: database.url, dataDir: '.' });
    try {
      await migrateLatest(db);
      const demo = await ensureDemoUser(db);
      expect(demo).toEqual({ username: 'demo', password: expect.stringMatching(/^[\w-]{12,}$/), siteId: 'site-demo' });
      const stored = await findUserForLogin(db, 'demo');
      expect(stored).toMatchObject({ siteId: 'site-demo', role: 'admin' });
      expect(await verifyPassword(demo!.password, stored!.passwordHash)).toBe(true);
      expect(await ensureDemoUser(db)).toBeNull();
      const [{ n }] = await db('users').count<{ n: number }[]>({ n: '*' });
      expect(Number(n)).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  test('a production server on an empty database makes no demo user', async () => {
    const database = await freshDatabase();
    const server = await startTestServer({ NODE_ENV: 'production' }, { database });
    servers.push(server);
    const counter = openCounter(database.url);
    const [{ n }] = await counter.query('SELECT count(*)::int AS n FROM users');
    await counter.close();
    expect(n).toBe(0);
    expect((await call(server.url, 'GET', '/api/health')).status).toBe(200);
  });

  test('a development server (NODE_ENV unset) on an empty PostgreSQL makes no demo user and logs no password', async () => {
    const database = await freshDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-demo-'));
    const lines: string[] = [];
    const running = await startServer(
      parseEnv({ PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: database.url, SEMS_DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(40) }),
      createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, { write: (line: string) => lines.push(line) }),
    );
    try {
      expect(running.db.embedded).toBe(false);
      const counter = openCounter(database.url);
      const [{ n }] = await counter.query('SELECT count(*)::int AS n FROM users');
      await counter.close();
      expect(n).toBe(0);
      expect(lines.join('\n')).not.toMatch(/demo|password/i);
      expect(fs.existsSync(path.join(dataDir, 'demo-user.txt'))).toBe(false);
      const login = await call(running.url, 'POST', '/api/auth/login', { body: { username: 'demo', password: 'anything-at-all' } });
      expect(login.status).toBe(401);
    } finally {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
