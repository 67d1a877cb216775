import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest, openDatabase } from '../../server/db';
import { parseEnv } from '../../server/env';
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

  test('a development server on an empty database makes the demo user, who can sign in', async () => {
    const database = await freshDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-demo-'));
    const running = await startServer(
      parseEnv({ NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, SEMS_DATA_DIR: dataDir, JWT_SECRET: 'x'.repeat(40) }),
    );
    try {
      const [, password] = fs.readFileSync(path.join(dataDir, 'demo-user.txt'), 'utf8').match(/password: (.+)/)!;
      const login = await call(running.url, 'POST', '/api/auth/login', { body: { username: 'demo', password } });
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ username: 'demo', siteId: 'site-demo' });
    } finally {
      await running.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
