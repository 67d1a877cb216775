import jwt from 'jsonwebtoken';
import { loginResponseSchema, userSchema } from '../../schemas/api';
import { makeDispense } from '../support/records';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../support/server';
import { call, expectError, pushBody } from '../support/api';
import { openCounter, type Counter } from './counter';

const ISSUER = 'sems-dispense';
const AUDIENCE = 'sems-dispense-api';

let server: TestServer;
let counter: Counter;
let aliceId: number;

beforeAll(async () => {
  server = await startTestServer();
  counter = openCounter(server.database!.url);
  await server.addUser('alice', 'site-a', 'alice-password');
  await server.addUser('bob', 'site-a', 'bob-password');
  aliceId = (await server.login('alice', 'alice-password')).user.id;
});

afterAll(async () => {
  await counter?.close();
  await server?.stop();
});

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claims = (sub: unknown) => ({ sub, username: 'alice', site: 'site-a', iss: ISSUER, aud: AUDIENCE });
const now = () => Math.floor(Date.now() / 1000);

describe('POST /api/auth/login', () => {
  test('with the right password, it answers 200 with a 24-hour HS256 token for that user', async () => {
    const before = Date.now();
    const res = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'alice-password' } });
    expect(res.status).toBe(200);
    const body = loginResponseSchema.parse(res.body);
    expect(body.user).toEqual({ id: aliceId, username: 'alice', displayName: 'alice', siteId: 'site-a', role: 'pharmacist' });
    expect(Object.keys(res.body)).toEqual(['token', 'expiresAt', 'user', 'offlineSignInSeconds', 'mustChangePassword', 'offlineAccess']);
    expect(body.mustChangePassword).toBe(false);

    const decoded = jwt.verify(body.token, TEST_JWT_SECRET, { algorithms: ['HS256'], complete: true }) as jwt.Jwt;
    const payload = decoded.payload as jwt.JwtPayload;
    expect(decoded.header.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: String(aliceId), iss: ISSUER, aud: AUDIENCE });
    // The token names its session, which sign-out and a site admin can end (test/server/sessions.test.ts).
    expect(payload.sid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(payload.exp! - payload.iat!).toBe(24 * 60 * 60);
    const ttl = Date.parse(body.expiresAt) - before;
    expect(ttl).toBeGreaterThan(24 * 3600 * 1000 - 5000);
    expect(ttl).toBeLessThan(24 * 3600 * 1000 + 5000);
  });

  test('the token it gives opens GET /api/auth/me, which names the signed-in user', async () => {
    const { token } = await server.login('bob', 'bob-password');
    const res = await call(server.url, 'GET', '/api/auth/me', { token });
    expect(res.status).toBe(200);
    expect(userSchema.parse(res.body)).toMatchObject({ username: 'bob', siteId: 'site-a' });
  });

  test('with a wrong password, it answers 401 invalid_credentials and no token', async () => {
    const res = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'not-her-password' } });
    expectError(res, 401, 'invalid_credentials');
    expect(JSON.stringify(res.body)).not.toContain('token');
  });

  test('for an unknown user, it answers exactly as for a wrong password (no username probing)', async () => {
    const wrong = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'bob', password: 'nope-nope' } });
    const unknown = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'nobody', password: 'nope-nope' } });
    expectError(unknown, 401, 'invalid_credentials');
    expect(unknown.body).toEqual(wrong.body);
  });

  test('without a password, it answers 400 invalid_request with the issue at password', async () => {
    const res = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice' } });
    expectError(res, 400, 'invalid_request');
    expect((res.body as any).error.issues).toEqual([expect.objectContaining({ path: ['password'] })]);
  });

  test('with a body that is not JSON, it answers 400 invalid_json', async () => {
    expectError(await call(server.url, 'POST', '/api/auth/login', { raw: '{"username":' }), 400, 'invalid_json');
  });
});

describe('a push with a bad token is refused with 401 and writes nothing', () => {
  const sign = (payload: object, secret = TEST_JWT_SECRET, opts: jwt.SignOptions = {}) => jwt.sign(payload, secret, { algorithm: 'HS256', ...opts });

  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ['no Authorization header', async () => ({}), 'token_missing'],
    ['an Authorization header that is not Bearer', async () => ({ authorization: 'Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=' }), 'token_malformed'],
    ['a Bearer value that is not a JWT', async () => ({ authorization: 'Bearer not-a-token' }), 'token_malformed'],
    ['a JWT with a broken payload', async () => ({ authorization: `Bearer ${b64({ alg: 'HS256' })}.%%%.sig` }), 'token_malformed'],
    [
      'an expired token',
      async () => ({ authorization: `Bearer ${sign({ ...claims(String(aliceId)), iat: now() - 90000, exp: now() - 3600 })}` }),
      'token_expired',
    ],
    [
      'a token signed with another secret',
      async () => ({ authorization: `Bearer ${sign(claims(String(aliceId)), 'another-secret-0123456789-0123456789-xyz')}` }),
      'token_invalid_signature',
    ],
    [
      'a token whose signature was altered',
      async () => {
        const { token } = await server.login('alice', 'alice-password');
        const tampered = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
        return { authorization: `Bearer ${tampered}` };
      },
      'token_invalid_signature',
    ],
    [
      'an unsigned token (alg none)',
      async () => ({ authorization: `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(String(aliceId)), exp: now() + 3600 })}.` }),
      'token_invalid_signature',
    ],
    [
      'a token signed with the right secret but another algorithm (HS512)',
      async () => ({ authorization: `Bearer ${sign(claims(String(aliceId)), TEST_JWT_SECRET, { algorithm: 'HS512' })}` }),
      'token_invalid_signature',
    ],
    [
      'a token for another audience',
      async () => ({ authorization: `Bearer ${sign({ ...claims(String(aliceId)), aud: 'another-api' })}` }),
      'token_malformed',
    ],
    ['a token whose subject is not a user id', async () => ({ authorization: `Bearer ${sign(claims('alice'))}` }), 'user_not_found'],
    ['a token without a subject', async () => ({ authorization: `Bearer ${sign(claims(undefined))}` }), 'user_not_found'],
  ];

  test.each(cases.map(([what, headers, code]) => ({ what, headers, code })))(
    'when the request has $what, the answer is 401 $code',
    async ({ headers, code }) => {
      const before = await counter.counts();
      const body = pushBody([makeDispense({ siteId: 'site-a', dispensedBy: 'alice' })]);
      const res = await call(server.url, 'POST', '/api/sync/dispenses/push', { body, headers: await headers() });
      expectError(res, 401, code);
      expect(await counter.counts()).toEqual(before);
      expect(before).toEqual({ dispenses: 0, audit: 0 });
    },
  );

  test('when the user of a valid token has been deleted, the answer is 401 user_not_found and nothing is written', async () => {
    await server.addUser('carol', 'site-a', 'carol-password');
    const { token, user } = await server.login('carol', 'carol-password');
    const ok = await call(server.url, 'GET', '/api/auth/me', { token });
    expect(ok.status).toBe(200);

    await counter.query('DELETE FROM users WHERE id = $1', [user.id]);
    const res = await call(server.url, 'POST', '/api/sync/dispenses/push', {
      token,
      body: pushBody([makeDispense({ siteId: 'site-a', dispensedBy: 'carol' })]),
    });
    expectError(res, 401, 'user_not_found');
    expect(await counter.counts()).toEqual({ dispenses: 0, audit: 0 });
  });

  test('when the user of a valid token has been deleted, a push with a body that is not JSON still answers 401 user_not_found, not 400', async () => {
    await server.addUser('dora', 'site-a', 'dora-password');
    const { token, user } = await server.login('dora', 'dora-password');
    await counter.query('DELETE FROM users WHERE id = $1', [user.id]);
    expectError(await call(server.url, 'POST', '/api/sync/dispenses/push', { token, raw: '{"rows": [' }), 401, 'user_not_found');
  });

  test.each([
    'GET /api/auth/me',
    'GET /api/sync/status',
    'GET /api/sync/dispenses/pull',
    'GET /api/dispenses',
    'GET /api/dispenses/6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
  ])('every signed-in route, here %s, answers 401 token_missing without a token', async (route) => {
    const [method, path] = route.split(' ');
    expectError(await call(server.url, method, path), 401, 'token_missing');
  });

  test('a push without a token is refused with 401 before its body is read, even when the body is not JSON', async () => {
    expectError(await call(server.url, 'POST', '/api/sync/dispenses/push', { raw: '{not json' + 'x'.repeat(100_000) }), 401, 'token_missing');
  });

  test('a sign-in body larger than 16 kB is refused with 413 payload_too_large', async () => {
    const res = await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'x'.repeat(20_000) } });
    expectError(res, 413, 'payload_too_large');
  });

  test('login and health need no token', async () => {
    expect((await call(server.url, 'GET', '/api/health')).status).toBe(200);
    expect((await call(server.url, 'POST', '/api/auth/login', { body: { username: 'alice', password: 'alice-password' } })).status).toBe(200);
  });
});
