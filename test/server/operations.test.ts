/**
 * What an operator sees, against a real server on PostgreSQL: the metrics after a scripted bit of
 * work (each counter with the value the work made, no label holding an id, the token required),
 * the request log (one JSON line per request, the request id round-tripped, no secret in it), and
 * the readiness probe following the migrations.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../server/logging';
import { migrationSource } from '../../migrations';
import { makeDispense } from '../support/records';
import { call, expectError, pull, push, pushBody, TEST_PASSWORD } from '../support/api';
import { startTestServer, type TestServer } from '../support/server';

const METRICS_TOKEN = 'metrics-token-0123456789';

/** The samples of one metric in Prometheus text: label set → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (m) out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

describe('metrics, logs and readiness', () => {
  let server: TestServer;
  const lines: string[] = [];
  let token: string;

  beforeAll(async () => {
    server = await startTestServer(
      { METRICS_TOKEN, LOG_LEVEL: 'info', RATE_LOGIN_FAILURES: '2' },
      { logger: createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, { write: (line: string) => lines.push(line) }) },
    );
    await server.addUser('olga', 'site-ops');
    token = (await server.login('olga')).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('after pushes with a conflict and a rejection, a pull, failed sign-ins and a 429, /metrics counts each', async () => {
    const docs = [0, 1, 2].map((i) => makeDispense({ siteId: 'site-ops', dispensedBy: 'olga' }, i));
    const bad = { ...makeDispense({ siteId: 'site-ops', dispensedBy: 'olga' }, 3), quantity: -1 };
    expect((await push(server.url, token, pushBody([...docs, bad]))).body.rejected).toHaveLength(1);
    const edited = { ...docs[0], notes: 'edited', editReason: 'typo', updatedAt: new Date(Date.parse(docs[0].updatedAt) + 1000).toISOString() };
    const stale = { ...docs[1], notes: 'stale', updatedAt: new Date(Date.parse(docs[1].updatedAt) + 1000).toISOString() };
    const answer = await push(server.url, token, pushBody([edited, stale, docs[2]], [docs[0], { ...docs[1], notes: 'never stored' }, docs[2]]));
    expect(answer.body.conflicts).toHaveLength(1);
    // A pull reads below the cluster's oldest open transaction (server/pull.ts): with other suites
    // running it may send fewer than the three records, so the metric is held to what it sent.
    const pulled = await pull(server.url, token);
    expect(pulled.status).toBe(200);
    for (let i = 0; i < 3; i++) await call(server.url, 'POST', '/api/auth/login', { body: { username: 'olga', password: `wrong-${i}` } });
    expectError(await call(server.url, 'POST', '/api/auth/login', { body: { username: 'olga', password: 'wrong-again' } }), 429, 'rate_limited');

    const res = await call<string>(server.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.text;
    expect(Object.fromEntries(samples(text, 'sems_push_rows_total'))).toEqual({
      '{outcome="inserted"}': 3,
      '{outcome="rejected"}': 1,
      '{outcome="updated"}': 1,
      '{outcome="conflict"}': 1,
      '{outcome="unchanged"}': 1,
    });
    expect(Object.fromEntries(samples(text, 'sems_push_rejected_total'))).toEqual({ '{code="invalid_record"}': 1 });
    expect(samples(text, 'sems_pull_pages_total').get('')).toBe(1);
    expect(samples(text, 'sems_pull_rows_total').get('')).toBe(pulled.body.documents.length);
    expect(samples(text, 'sems_login_failures_total').get('')).toBe(2);
    expect(Object.fromEntries(samples(text, 'sems_rate_limited_total'))).toEqual({ '{limit="login_fail"}': 2 });
    const pool = samples(text, 'sems_db_pool_connections');
    expect([...pool.keys()].sort()).toEqual(['{state="free"}', '{state="pending"}', '{state="used"}']);
    expect(samples(text, 'sems_http_request_duration_seconds_count').get('{method="POST",route="/api/sync/dispenses/push",status="200"}')).toBe(2);
    expect(text).toMatch(/^sems_nodejs_eventloop_lag_seconds /m);
    expect(text).toMatch(/^sems_nodejs_heap_size_used_bytes /m);
    expect(text).toMatch(/^# TYPE sems_nodejs_gc_duration_seconds histogram$/m);

    // No label value is an id: no user, site, device or record, and no raw URL.
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
    for (const secret of ['olga', 'site-ops', ...docs.map((d) => d.externalId)]) expect(labelValues.filter((v) => v.includes(secret))).toEqual([]);
    expect(labelValues.filter((v) => v.includes('?'))).toEqual([]);
  });

  test('a device unseen for over a day with records pending is flagged, and the pending records summed', async () => {
    await call(server.url, 'POST', '/api/sync/devices/report', {
      token,
      headers: { 'x-device-id': 'dev-ops-1' },
      body: { pendingCount: 4, oldestPendingAt: new Date().toISOString(), appVersion: 'test', madeCount: 4, deviceTime: new Date().toISOString() },
    });
    await server.db.raw("UPDATE devices SET last_seen_at = now() - interval '2 days' WHERE device_id = 'dev-ops-1'");
    const text = (await call<string>(server.url, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text;
    expect(samples(text, 'sems_devices_flagged').get('')).toBe(1);
    expect(samples(text, 'sems_devices_pending_records').get('')).toBe(4);
  });

  test('/metrics without the token, or with another, is 401 and shows nothing', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-the-metrics-token' }, { authorization: `Bearer ${token}` }] as Record<string, string>[]) {
      const r = await call(server.url, 'GET', '/metrics', { headers });
      expectError(r, 401, 'token_invalid');
      expect(r.text).not.toMatch(/sems_/);
    }
  });

  test('a sane X-Request-Id comes back and names the log line; another is replaced by a new id', async () => {
    const mine = `req-${randomUUID()}`;
    const r = await call(server.url, 'GET', '/api/health', { headers: { 'x-request-id': mine } });
    expect(r.headers.get('x-request-id')).toBe(mine);
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === mine);
    expect(line).toMatchObject({ msg: 'request', method: 'GET', route: '/api/health', status: 200, durationMs: expect.any(Number) });
    const odd = await call(server.url, 'GET', '/api/health', { headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('a signed-in request names its user and site and route pattern; the log holds no password, token or query string', async () => {
    await call(server.url, 'GET', `/api/dispenses?patientId=SECRET-PATIENT-42&limit=5`, { token });
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.find((l) => l.route === '/api/dispenses')).toMatchObject({ user: 'olga', site: 'site-ops', status: 200 });
    const all = lines.join('\n');
    for (const secret of [TEST_PASSWORD, token, token.split('.')[2], 'SECRET-PATIENT-42', METRICS_TOKEN, 'wrong-again']) {
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    }
    expect(
      parsed.filter((l) => l.msg === 'request').every((l) => l.req?.url === undefined && l.req?.headers === undefined && l.res === undefined),
    ).toBe(true);
  });

  test('/api/ready is 200 with the migrations current, 503 when one is missing, and 200 again once applied', async () => {
    expect((await call(server.url, 'GET', '/api/ready')).body).toEqual({ status: 'ready', database: 'up', migrations: 'current' });
    await server.db.migrate.down({ migrationSource });
    try {
      const behind = await call(server.url, 'GET', '/api/ready');
      expect(behind.status).toBe(503);
      expect(behind.body).toMatchObject({ status: 'not_ready', migrations: 'behind' });
      expect((await call(server.url, 'GET', '/api/health')).status).toBe(200); // alive, not ready
    } finally {
      await server.db.migrate.latest({ migrationSource });
    }
    expect((await call(server.url, 'GET', '/api/ready')).status).toBe(200);
  });
});

test('with no METRICS_TOKEN, /metrics does not exist', async () => {
  const server = await startTestServer();
  try {
    expect((await call(server.url, 'GET', '/metrics')).status).toBe(404);
  } finally {
    await server.stop();
  }
});
