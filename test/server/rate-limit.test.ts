import { makeDispense } from '../support/records';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { startTestServer, type TestServer } from '../support/server';
import { call, expectError, push, pushBody } from '../support/api';
import { openCounter, type Counter } from './counter';

const LIMITS = { RATE_PUSH_PER_MINUTE: '3', RATE_LOGIN_FAILURES: '3', RATE_LOGIN_WINDOW_SECONDS: '600', RATE_API_PER_MINUTE: '5' };

let database: TestDatabase;
let one: TestServer;
let two: TestServer; // a second instance on the same database: the counters must be shared
let counter: Counter;

beforeAll(async () => {
  database = await createTestDatabase();
  one = await startTestServer(LIMITS, { database });
  two = await startTestServer(LIMITS, { database });
  counter = openCounter(database.url);
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await one.addUser(u, 'site-a');
});

afterAll(async () => {
  await counter?.close();
  await one?.stop();
  await two?.stop();
  await database?.drop();
});

const newPush = (user: string) => pushBody([makeDispense({ siteId: 'site-a', dispensedBy: user })]);
const login = (server: TestServer, username: string, password: string) =>
  call(server.url, 'POST', '/api/auth/login', { body: { username, password } });

function retryAfter(res: { headers: Headers }): number {
  const value = res.headers.get('retry-after');
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

describe('push rate limit (RATE_PUSH_PER_MINUTE=3)', () => {
  test('the push over the limit answers 429 rate_limited with Retry-After in seconds, and writes nothing', async () => {
    const { token } = await one.login('alice');
    for (let i = 0; i < 3; i++) expect((await push(one.url, token, newPush('alice'))).status).toBe(200);
    const before = await counter.counts();

    const res = await push(one.url, token, newPush('alice'));
    expectError(res, 429, 'rate_limited');
    const seconds = retryAfter(res);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(await counter.counts()).toEqual(before);
  });

  test('the limit is per user: another user of the same site still pushes', async () => {
    const { token } = await one.login('bob');
    expect((await push(one.url, token, newPush('bob'))).status).toBe(200);
  });

  test('two instances on one database share the counter: pushes spread over both are limited together', async () => {
    const { token } = await one.login('carol');
    const servers = [one, two, one];
    for (const s of servers) expect((await push(s.url, token, newPush('carol'))).status).toBe(200);
    const before = await counter.counts();
    const res = await push(two.url, token, newPush('carol'));
    expectError(res, 429, 'rate_limited');
    expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
    expect(await counter.counts()).toEqual(before);
    const [row] = await counter.query("SELECT points FROM rate_limits WHERE key LIKE 'push%' ORDER BY points DESC LIMIT 1");
    expect(row.points).toBeGreaterThanOrEqual(4);
  });
});

describe('push rate limit and malformed pushes', () => {
  test('a push refused as malformed (400) counts toward the limit, and the refusal over the limit is 429', async () => {
    await one.addUser('hank', 'site-a');
    const { token } = await one.login('hank');
    expectError(await call(one.url, 'POST', '/api/sync/dispenses/push', { token, raw: '{"rows": [' }), 400, 'invalid_json');
    expectError(await call(two.url, 'POST', '/api/sync/dispenses/push', { token, body: { rows: [] } }), 400, 'invalid_request');
    expect((await push(one.url, token, newPush('hank'))).status).toBe(200);
    const before = await counter.counts();
    expectError(await push(two.url, token, newPush('hank')), 429, 'rate_limited');
    expect(await counter.counts()).toEqual(before);
  });
});

describe('other API calls (RATE_API_PER_MINUTE=5)', () => {
  test('the read over the limit answers 429 with Retry-After, and pushes keep their own budget', async () => {
    await one.addUser('gina', 'site-a');
    const { token } = await one.login('gina');
    for (let i = 0; i < 5; i++) expect((await call(i % 2 ? two.url : one.url, 'GET', '/api/sync/status', { token })).status).toBe(200);
    const refused = await call(one.url, 'GET', '/api/dispenses', { token });
    expectError(refused, 429, 'rate_limited');
    expect(retryAfter(refused)).toBeLessThanOrEqual(60);
    expect((await push(two.url, token, newPush('gina'))).status).toBe(200);
  });
});

describe('sign-in failures (RATE_LOGIN_FAILURES=3 per username and address)', () => {
  test('after 3 wrong passwords, the next attempt answers 429 with Retry-After, even with the right password', async () => {
    for (let i = 0; i < 3; i++) expectError(await login(one, 'dave', 'wrong-password'), 401, 'invalid_credentials');
    const refused = await login(one, 'dave', 'password123');
    expectError(refused, 429, 'rate_limited');
    const seconds = retryAfter(refused);
    expect(seconds).toBeGreaterThan(500);
    expect(seconds).toBeLessThanOrEqual(600);
    expect(JSON.stringify(refused.body)).not.toContain('token');
  });

  test('the other instance refuses too: the failures are counted in PostgreSQL', async () => {
    expectError(await login(two, 'dave', 'password123'), 429, 'rate_limited');
  });

  test('another username from the same address is not locked out', async () => {
    expect((await login(one, 'erin', 'password123')).status).toBe(200);
  });

  test('a successful sign-in clears the failures, so an earlier typo does not count later', async () => {
    for (let i = 0; i < 2; i++) expectError(await login(one, 'bob', 'typo'), 401, 'invalid_credentials');
    expect((await login(one, 'bob', 'password123')).status).toBe(200);
    for (let i = 0; i < 2; i++) expectError(await login(one, 'bob', 'typo'), 401, 'invalid_credentials');
    expect((await login(two, 'bob', 'password123')).status).toBe(200);
  });

  test('the username is counted case-insensitively, so changing its case does not earn more guesses', async () => {
    await one.addUser('frank', 'site-a');
    for (const name of ['frank', 'FRANK', 'Frank']) expectError(await login(one, name, 'wrong-password'), 401, 'invalid_credentials');
    expectError(await login(one, 'frank', 'password123'), 429, 'rate_limited');
  });
});
