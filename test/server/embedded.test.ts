import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loginResponseSchema, syncStatusSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../support/records';
import { TEST_JWT_SECRET } from '../support/server';
import { call, expectError, pull, pullAll, push, pushBody } from '../support/api';

// The start path of a new user: no DATABASE_URL, so the server runs on embedded PostgreSQL
// (PGlite) in a data folder, migrates it, and prints a demo user once. PGlite cannot load in
// jest's module sandbox (it imports its wasm with import()), so the real entry point
// server/main.ts runs as a child process, as `npm start` would run it.
jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const run = promisify(execFile);

interface Main {
  child: ChildProcess;
  url: string;
  output: string[];
  exited: Promise<number | null>;
}

let dir: string;
let main: Main | undefined;
// makeDispense's records are of 2026-11-25: a window of ten years keeps them in it.
const PULL_WINDOW_DAYS = '3650';

function startMain(): Promise<Main> {
  const child = spawn(TSX, ['server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: '',
      SEMS_DATA_DIR: dir,
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      JWT_SECRET: TEST_JWT_SECRET,
      PULL_WINDOW_DAYS: PULL_WINDOW_DAYS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise<Main>((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      // JSON log lines (pino): the message of each; anything else as printed. A chunk may end mid-line.
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        output.push(line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line);
        const listening = line.match(/listening on (http:\/\/\S+)/);
        if (listening) resolve({ child, url: listening[1], output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`server/main.ts exited with ${code} before listening:\n${output.join('\n')}`)));
  });
}

async function stopMain(m: Main): Promise<number | null> {
  m.child.kill('SIGTERM');
  return m.exited;
}

/** Row counts read from the data folder once the server has stopped (PGlite is one process's). */
async function countsInFolder(): Promise<{ dispenses: number; audit: number; creates: number; users: number }> {
  const { stdout } = await run(TSX, ['test/server/bin/pglite-counts.ts', dir], { cwd: ROOT });
  return JSON.parse(stdout);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sems-embedded-'));
});

afterAll(async () => {
  if (main && main.child.exitCode === null) await stopMain(main);
  fs.rmSync(dir, { recursive: true, force: true });
});

let demo: { username: string; password: string; siteId: string };

test('with no DATABASE_URL, the server starts on PGlite in the data folder, makes a demo user once with its password in a file only, and that user signs in and pushes', async () => {
  main = await startMain();
  expect(main.output.join('\n')).toContain(`database: embedded, ${dir}`);
  expect(fs.existsSync(path.join(dir, 'pglite'))).toBe(true);

  const health = await call(main.url, 'GET', '/api/health');
  expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up' } });

  const demoLines = main.output.filter((l) => l.startsWith('Created a demo user'));
  expect(demoLines).toHaveLength(1);
  const file = path.join(dir, 'demo-user.txt');
  expect(demoLines[0]).toContain(file);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const [, username, password, siteId] = fs.readFileSync(file, 'utf8').match(/^username: (.+)\npassword: (.+)\nsite: (.+)\n$/)!;
  demo = { username, password, siteId };
  expect(password.length).toBeGreaterThanOrEqual(12);
  expect(main.output.join('\n')).not.toContain(password); // never in the log

  const login = await call(main.url, 'POST', '/api/auth/login', { body: { username, password } });
  expect(login.status).toBe(200);
  const { token, user } = loginResponseSchema.parse(login.body);
  expect(user).toMatchObject({ username, siteId, role: 'admin' }); // the demo user sees the whole app

  const doc = makeDispense({ siteId, dispensedBy: username });
  const res = await push(main.url, token, pushBody([doc]));
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
  const detail = await call(main.url, 'GET', `/api/dispenses/${doc.externalId}`, { token });
  expect(detail.body.record).toEqual(doc);
  expect(detail.body.audit).toEqual([expect.objectContaining({ action: 'create', actor: username, before: null, after: doc })]);

  // Concurrent pushes share PGlite's one connection; the same record again writes nothing.
  const pushed: Dispense[] = Array.from({ length: 20 }, (_, i) => makeDispense({ siteId, dispensedBy: username }, i));
  const results = await Promise.all([
    push(main.url, token, pushBody([doc])),
    push(main.url, token, pushBody(pushed.slice(0, 12))),
    push(main.url, token, pushBody(pushed.slice(8))),
  ]);
  for (const r of results) expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { conflicts: [], rejected: [] } });
  const status = syncStatusSchema.parse((await call(main.url, 'GET', '/api/sync/status', { token })).body);
  expect(status).toMatchObject({ totalRecords: 21, siteRecords: 21 });
  // The export's keyset pages and the devices list run on PGlite too (the demo user is the site's admin).
  const csv = await call(main.url, 'GET', '/api/dispenses/export.csv?from=2026-01-01&to=2027-01-01', { token });
  expect({ status: csv.status, lines: csv.text.trimEnd().split('\r\n').length }).toEqual({ status: 200, lines: 22 });
  const reported = await call(main.url, 'POST', '/api/sync/devices/report', {
    token,
    headers: { 'x-device-id': 'dev-embedded' },
    body: { pendingCount: 0, oldestPendingAt: null, appVersion: 'test', madeCount: 0, deviceTime: new Date().toISOString() },
  });
  expect(reported.status).toBe(200);
  const listed = await call(main.url, 'GET', '/api/sync/devices', { token });
  expect(listed.body.devices).toEqual([expect.objectContaining({ deviceId: 'dev-embedded', serverHolds: 0, allDelivered: true })]);

  expect(await stopMain(main)).toBe(0); // SIGTERM: a clean stop
  expect(await countsInFolder()).toEqual({ dispenses: 21, audit: 21, creates: 21, users: 1 });
});

test('after a restart on the same data folder, the records are still there, no second demo user is made, and the demo user still signs in', async () => {
  main = await startMain();
  expect(main.output.some((l) => l.startsWith('Created a demo user'))).toBe(false);
  const login = await call(main.url, 'POST', '/api/auth/login', { body: { username: demo.username, password: demo.password } });
  expect(login.status).toBe(200);
  const page = await call(main.url, 'GET', '/api/dispenses?limit=100', { token: login.body.token });
  expect(page.body.items).toHaveLength(21);
  expect(await stopMain(main)).toBe(0);
  expect(await countsInFolder()).toEqual({ dispenses: 21, audit: 21, creates: 21, users: 1 });
});

test("on PGlite too, a pull pages through the site's records once, then brings an edit, and nothing of another site", async () => {
  // A user of another site, added with `npm run user` while the server is stopped (PGlite is one process's).
  await run('sh', ['-c', `echo zed-password | DATABASE_URL= SEMS_DATA_DIR=${dir} ${TSX} server/cli/user.ts add zed --site site-z`], { cwd: ROOT });
  main = await startMain();
  const token = (await call(main.url, 'POST', '/api/auth/login', { body: { username: demo.username, password: demo.password } })).body.token;
  const zed = (await call(main.url, 'POST', '/api/auth/login', { body: { username: 'zed', password: 'zed-password' } })).body.token;
  const theirs = makeDispense({ siteId: 'site-z', dispensedBy: 'zed' });
  expect((await push(main.url, zed, pushBody([theirs]))).body).toEqual({ conflicts: [], rejected: [] });

  const listed = (await call(main.url, 'GET', '/api/dispenses?limit=100', { token })).body.items as Dispense[];
  const first = await pullAll(main.url, token, { limit: 5 });
  expect(first.pages).toEqual([5, 5, 5, 5, 1]);
  expect(first.documents).toEqual(listed); // the window, newest first, each record once
  expect((await pullAll(main.url, zed)).documents).toEqual([theirs]);

  const edited: Dispense = { ...listed[7], quantity: 3, updatedAt: new Date().toISOString() };
  expect((await push(main.url, token, pushBody([edited], [listed[7]]))).body).toEqual({ conflicts: [], rejected: [] });
  const next = await pullAll(main.url, token, { checkpoint: first.checkpoint, limit: 5 });
  expect(next.documents).toEqual([edited]);
  expect((await pull(main.url, token, next.checkpoint, 5)).body).toEqual({ documents: [], checkpoint: next.checkpoint });
  expectError(await pull(main.url, token, 'not-a-checkpoint'), 400, 'invalid_request');
  const status = syncStatusSchema.parse((await call(main.url, 'GET', '/api/sync/status', { token })).body);
  expect(status).toMatchObject({ pullWindowDays: Number(PULL_WINDOW_DAYS), duplicateWindowHours: 24 });
  expect(await stopMain(main)).toBe(0);
});
