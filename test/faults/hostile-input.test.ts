/**
 * Scenario 6, hostile input: fast-check properties against the real push endpoint on a real
 * server and PostgreSQL. Whatever is sent, the answer is a push response or the one error
 * body, never a 5xx; a record is stored exactly as sent or rejected; no stored row is invalid.
 * The pull's checkpoint and limit, and the read routes' queries, are fuzzed the same way.
 */
import fc from 'fast-check';
import pg from 'pg';
import { dispenseDetailSchema, dispensePageSchema, MAX_PUSH_ROWS, pullResponseSchema } from '../../schemas/api';
import { CLOCK_AHEAD_LIMIT_MS } from '../../schemas/devices';
import { dispenseSchema, DISPENSE_FIELDS, type Dispense } from '../../schemas/dispense';
import { entryIssues } from '../../schemas/entry-rules';
import { rowToDispense, type DispenseRow } from '../../server/records';
import { makeDispense } from '../support/records';
import { call, contractViolation, push, pushAnswerViolation, Tally, type Reply } from '../support/api';
import { startTestServer, type TestServer } from '../support/server';
import { inspectDatabase } from '../support/inspect';
import { applyMutations, anyJson, hostileDate, hostileString, mutation, nest, NASTY_TEXT, setOwn } from './support/hostile';
import { report, scaled, since } from './support/results';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RUNS = { json: scaled(150), mutated: scaled(250), valid: scaled(150), raw: scaled(100), reads: scaled(100), pull: scaled(200) };

let server: TestServer;
let pool: pg.Pool;
let token: string;
const tally = new Tally();
const started = Date.now();
let requests = 0;
let rowsPushed = 0;
/** Records the server took: each must be stored exactly as sent. */
const expected = new Map<string, Dispense>();

/** An instant the server refuses as ahead of its clock when pushed at `at` (a minute of slack either side of the limit is left out by the generator's odds). */
const ahead = (instant: string, at: number) => Date.parse(instant) > at + CLOCK_AHEAD_LIMIT_MS;

const baseRecord = (i = 0): Dispense => makeDispense({ siteId: 'site-a', dispensedBy: 'alice' }, i);

async function send(body: unknown, raw?: string | Buffer, headers?: Record<string, string>): Promise<Reply> {
  requests++;
  return raw === undefined
    ? push(server.url, token, body, { tally, headers })
    : call(server.url, 'POST', '/api/sync/dispenses/push', { token, raw, tally, headers });
}

async function stored(ids: string[]): Promise<Map<string, Dispense>> {
  const valid = ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase());
  const { rows } = await pool.query<DispenseRow>('SELECT * FROM dispenses WHERE external_id = ANY($1::uuid[])', [valid]);
  return new Map(rows.map((r) => [String(r.external_id), rowToDispense(r)]));
}

/**
 * Exactly the same fields and values: what a re-push and the client's copy rely on. An own
 * "__proto__" key is JSON data that the parser drops (never applied as a prototype), so it is
 * not a field.
 */
function identical(a: Record<string, unknown>, b: Dispense): boolean {
  const keys = Object.keys(a).filter((k) => k !== '__proto__');
  const bKeys = DISPENSE_FIELDS.filter((f) => b[f] !== undefined);
  return keys.length === bKeys.length && bKeys.every((f) => a[f] === b[f]);
}

/** Percent-encodes text; broken unicode is sent as bytes that are not UTF-8 at all. */
function encodeHostile(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return `${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))}%ED%A0%80%FF`;
  }
}

function expectContract(r: Reply): void {
  const why = pushAnswerViolation(r);
  if (why) throw new Error(why);
}

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('alice', 'site-a');
  await server.addUser('bob', 'site-b');
  token = (await server.login('alice')).token;
  pool = new pg.Pool({ connectionString: server.database!.url, max: 2 });
});

afterAll(async () => {
  const found = await inspectDatabase(server.database!.url);
  const lost = [...expected].filter(([id, doc]) => !found.byId.get(id) || !identical(doc as never, found.byId.get(id)!)).length;
  await report({
    id: '6',
    scenario: 'Hostile input (fast-check, push endpoint, pull and reads)',
    records: rowsPushed,
    faults: `${requests} hostile requests`,
    faultCount: requests,
    lost,
    duplicated: found.duplicated,
    http5xx: tally.fiveXx,
    invalidStored: found.invalid.length + found.invalidAudit,
    auditRows: found.audit,
    auditExpected: expected.size,
    seconds: since(started),
    notes: `statuses ${tally}; ${found.rows} rows stored`,
  });
  await pool?.end();
  await server?.stop();
});

test('any JSON body is answered with a push response or the one error body, never a 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        anyJson,
        fc.record({ rows: anyJson }),
        fc.record({ rows: fc.array(anyJson, { maxLength: 5 }) }),
        fc.record({ rows: fc.array(fc.record({ newDocumentState: anyJson, assumedMasterState: anyJson }), { minLength: 1, maxLength: 5 }) }),
      ),
      async (body) => {
        const r = await send(body);
        expectContract(r);
        if (r.status === 200) {
          // Only a batch of rows that are objects gets past the envelope; none of them is a valid record.
          expect(r.body.conflicts).toEqual([]);
        }
      },
    ),
    { numRuns: RUNS.json },
  );
});

test('records with hostile fields are stored exactly as sent or rejected with a reason, never half-stored', async () => {
  const row = fc.record({
    base: fc.nat(10_000),
    mutations: fc.array(mutation, { minLength: 0, maxLength: 3 }),
    assumed: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyJson }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 6 }), async (spec) => {
      const docs = spec.map((s) => applyMutations(baseRecord(s.base), s.mutations));
      const body = { rows: docs.map((d, i) => ({ newDocumentState: d, assumedMasterState: spec[i].assumed })) };
      rowsPushed += docs.length;
      const r = await send(body);
      expectContract(r);
      if (r.status !== 200) return; // the envelope itself was refused (e.g. assumedMasterState not an object)
      expect(r.body.conflicts).toEqual([]); // every id is new to the server
      const ids = docs.map((d) => d.externalId).filter((id): id is string => typeof id === 'string');
      const have = await stored(ids);
      let storedCount = 0;
      for (const doc of docs) {
        const id = typeof doc.externalId === 'string' ? doc.externalId.toLowerCase() : '';
        const row = have.get(id);
        if (!row) continue;
        storedCount++;
        // Stored: then it was a valid record of this user's site, and it is held exactly as sent.
        expect({ id: doc.externalId, identical: identical(doc, row) }).toEqual({ id: doc.externalId, identical: true });
        expect(dispenseSchema.safeParse(row).success).toBe(true);
        expect({ siteId: row.siteId, dispensedBy: row.dispensedBy }).toEqual({ siteId: 'site-a', dispensedBy: 'alice' });
        expected.set(id, row);
      }
      // Every row that was not stored is in `rejected`, with a reason.
      expect(r.body.rejected.length + storedCount).toBe(docs.length);
    }),
    { numRuns: RUNS.mutated },
  );
});

test('valid-looking records with SQL, script and unicode text: the server decides as the shared schema does and stores them byte for byte', async () => {
  const textFields = ['patientId', 'patientName', 'medicationCode', 'medicationName', 'batchNumber', 'prescriber', 'prescriptionRef', 'notes'];
  const arb = fc.record({
    base: fc.nat(10_000),
    texts: fc.dictionary(fc.constantFrom(...textFields), hostileString, { maxKeys: 4 }),
    dispensedAt: fc.option(hostileDate, { nil: undefined }),
    expiryDate: fc.option(hostileDate, { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: 4 }), async (specs) => {
      const docs = specs.map((s) => {
        const doc: Record<string, unknown> = { ...baseRecord(s.base), ...s.texts };
        if (s.dispensedAt !== undefined) doc.dispensedAt = doc.updatedAt = s.dispensedAt;
        if (s.expiryDate !== undefined) doc.expiryDate = s.expiryDate;
        return doc;
      });
      rowsPushed += docs.length;
      const body = { rows: docs.map((d) => ({ newDocumentState: d, assumedMasterState: null })) };
      const pushedAt = Date.now();
      const r = await send(body);
      expectContract(r);
      expect(r.status).toBe(200);
      const rejected = new Set((r.body.rejected as { externalId: string }[]).map((x) => x.externalId));
      const have = await stored(docs.map((d) => d.externalId as string));
      for (const doc of docs) {
        // The server's verdict is the shared schema's and the entry rules' verdict (the record is
        // of this user's site), and it refuses an instant over 10 minutes ahead of its clock (clock_ahead).
        const parsed = dispenseSchema.safeParse(doc);
        const valid = parsed.success && entryIssues(parsed.data).length === 0 && !ahead(doc.dispensedAt as string, pushedAt);
        const row = have.get(doc.externalId as string);
        expect({ id: doc.externalId, valid, rejected: rejected.has(doc.externalId as string), stored: !!row }).toEqual({
          id: doc.externalId,
          valid,
          rejected: !valid,
          stored: valid,
        });
        if (row) {
          expect(identical(doc, row)).toBe(true);
          expected.set(row.externalId, row);
        }
      }
      // The same batch again writes nothing and changes nothing.
      const auditBefore = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs')).rows[0].n;
      const again = await send(body);
      expectContract(again);
      expect(again.body.conflicts).toEqual([]);
      expect((await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs')).rows[0].n).toBe(auditBefore);
    }),
    { numRuns: RUNS.valid },
  );
});

test('malformed JSON, deep nesting and prototype-pollution keys get 400 or a per-row rejection, and pollute nothing', async () => {
  const doc = baseRecord(1);
  const json = JSON.stringify({ rows: [{ newDocumentState: doc, assumedMasterState: null }] });
  const viaProto = baseRecord(2);
  const [besideProto, besideConstructor] = [baseRecord(3), baseRecord(4)];
  const withKey = (d: Dispense, key: string) => JSON.stringify(d).replace('{', `{${key},`);
  const fixed: string[] = [
    '',
    '{',
    'null',
    '[]',
    '"rows"',
    '{"rows":',
    '{"rows":[]}',
    '{"rows":{}}',
    '{"rows":[null]}',
    '{"rows":[{}]}',
    '{"rows":[{"newDocumentState":null}]}',
    json.replace('"rows"', '"rows","rows"'),
    json.slice(0, json.length / 2),
    '\uFEFF' + json,
    json.replace(/"/g, "'"),
    `{"__proto__":{"polluted":"yes"},"rows":[{"newDocumentState":${JSON.stringify(doc)}}]}`,
    `{"constructor":{"prototype":{"polluted":"yes"}},"rows":[]}`,
    // The whole record inside "__proto__": nothing may be read through the prototype.
    `{"rows":[{"__proto__":{"polluted":"yes"},"newDocumentState":{"__proto__":${JSON.stringify(viaProto)}}}]}`,
    `{"rows":[{"newDocumentState":${withKey(besideProto, '"__proto__":{"siteId":"site-b","dispensedBy":"bob","polluted":"yes"}')}}]}`,
    `{"rows":[{"newDocumentState":${withKey(besideConstructor, '"constructor":{"prototype":{"polluted":"yes"}}')}}]}`,
    '['.repeat(100_000) + ']'.repeat(100_000),
    '{"rows":[{"newDocumentState":{"notes":' + '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) + '}}]}',
    '{"rows":[{"newDocumentState":' + JSON.stringify(nest(2000)) + '}]}',
    '{"rows":[1e999999]}',
    '{"rows":[{"newDocumentState":{"quantity":1e999999}}]}',
  ];
  for (const raw of fixed) {
    const r = await send(undefined, raw);
    expectContract(r);
  }
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.tuple(fc.nat(json.length), fc.string({ maxLength: 5 })).map(([at, junk]) => json.slice(0, at) + junk + json.slice(at)),
      ),
      async (raw) => {
        rowsPushed++;
        expectContract(await send(undefined, raw));
      },
    ),
    { numRuns: RUNS.raw },
  );
  const have = await stored([doc.externalId, viaProto.externalId, besideProto.externalId, besideConstructor.externalId]);
  // A record sent only inside "__proto__" is not stored through the prototype, and the
  // "constructor" key is an unknown field, rejected by the strict schema.
  expect(have.has(viaProto.externalId)).toBe(false);
  expect(have.has(besideConstructor.externalId)).toBe(false);
  // A "__proto__" key beside the fields is dropped as JSON data, never applied: the record lands
  // with its own fields (this user's site and name), not the ones inside "__proto__".
  for (const d of [doc, besideProto]) {
    const row = have.get(d.externalId);
    if (!row) continue;
    expect(identical(d as never, row)).toBe(true);
    expected.set(row.externalId, row);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  // The server still answers normally.
  expect((await call(server.url, 'GET', '/api/health')).status).toBe(200);
});

test('a record carrying an own "__proto__" key never lands with another site or dispenser', async () => {
  const doc = baseRecord(5) as Record<string, unknown>;
  setOwn(doc, '__proto__', { siteId: 'site-b', dispensedBy: 'bob' });
  const r = await send({ rows: [{ newDocumentState: doc, assumedMasterState: null }] });
  expectContract(r);
  const have = await stored([doc.externalId as string]);
  const row = have.get(doc.externalId as string);
  if (row) {
    expect({ siteId: row.siteId, dispensedBy: row.dispensedBy }).toEqual({ siteId: 'site-a', dispensedBy: 'alice' });
    expected.set(row.externalId, row);
  }
});

test('oversized bodies, too many rows and odd content types are refused with 4xx and the error body', async () => {
  const big = 'z'.repeat(6 * 1024 * 1024);
  const cases: Reply[] = [
    await send({ rows: [{ newDocumentState: { ...baseRecord(6), notes: big }, assumedMasterState: null }] }),
    await send({ rows: Array.from({ length: MAX_PUSH_ROWS + 1 }, (_, i) => ({ newDocumentState: baseRecord(i), assumedMasterState: null })) }),
    await send(undefined, JSON.stringify({ rows: [{ newDocumentState: baseRecord(7) }] }), { 'content-type': 'text/plain' }),
    await send(undefined, '{"rows":[]}', { 'content-type': 'application/json; charset=utf-7' }),
    await send(undefined, 'garbage', { 'content-encoding': 'gzip' }),
    await send(undefined, 'garbage', { 'content-encoding': 'br, zstd, identity' }),
    await send(undefined, Buffer.from([0xff, 0xfe, 0x00, 0x7b])),
  ];
  rowsPushed += MAX_PUSH_ROWS + 3;
  for (const r of cases) {
    expectContract(r);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  }
  expect(cases[0].status).toBe(413);
  expect(cases[1].status).toBe(413);
  expect(cases[1].body.error.code).toBe('batch_too_large');
});

test('hostile paths, query strings and headers on the read routes never give a 5xx', async () => {
  const paths = fc.oneof(
    fc.constantFrom(
      '/api/dispenses/' + '-'.repeat(36),
      '/api/dispenses/' + 'f'.repeat(36),
      '/api/dispenses/00000000-0000-0000-0000-00000000000g',
      '/api/dispenses/%27%20OR%201%3D1--',
      '/api/dispenses?cursor=9999-99-99T99:99Z_' + '-'.repeat(36),
      '/api/dispenses?cursor=0000-01-01T00:00:00.000Z_00000000-0000-4000-8000-000000000000',
      '/api/dispenses?cursor=2026-02-30T00:00:00.000Z_00000000-0000-4000-8000-000000000000',
      '/api/dispenses?cursor=2026-11-25T99:00:00.000Z_00000000-0000-4000-8000-000000000000',
      '/api/dispenses?cursor=2026-11-25T09:00:00.000Z_' + 'a'.repeat(36),
      '/api/dispenses?limit=1e309',
      '/api/dispenses?limit=-1',
      '/api/dispenses?limit=1&limit=2',
      '/api/dispenses?limit[__proto__]=1',
      '/api/dispenses?__proto__[polluted]=yes',
      '/api/dispenses?cursor[]=a',
      '/api/sync/status?siteId=site-b',
    ),
    fc
      .tuple(
        fc.constantFrom('/api/dispenses/', '/api/dispenses?cursor=', '/api/dispenses?limit=', '/api/sync/status?x='),
        fc.oneof(fc.constantFrom(...NASTY_TEXT), fc.string({ maxLength: 60 }), fc.stringMatching(/^[0-9a-f-]{36}$/)),
      )
      .map(([p, s]) => p + encodeHostile(s)),
    fc
      .tuple(fc.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]{1,14}Z$/), fc.stringMatching(/^[0-9a-f-]{36}$/))
      .map(([at, id]) => `/api/dispenses?cursor=${encodeURIComponent(`${at}_${id}`)}`),
  );
  await fc.assert(
    fc.asyncProperty(
      paths,
      fc.constantFrom<Record<string, string>>({}, { 'x-request-id': "'; DROP TABLE x;--" }, { 'x-device-id': '<script>' }),
      async (p, headers) => {
        requests++;
        const r = await call(server.url, 'GET', p, { token, tally, headers });
        const why = contractViolation(r);
        if (why) throw new Error(`${p}: ${why}`);
        if (r.status === 200 && 'items' in r.body) expect(dispensePageSchema.safeParse(r.body).success).toBe(true);
        if (r.status === 200 && 'record' in r.body) expect(dispenseDetailSchema.safeParse(r.body).success).toBe(true);
      },
    ),
    { numRuns: RUNS.reads },
  );
});

test('hostile checkpoints and limits on the pull get a pull answer of the own site or 400 with the error body, never a 5xx', async () => {
  // Cut to fit a URL: a longer one is refused by Node's HTTP parser (431) before the app sees it.
  const text = hostileString.map((v) => v.slice(0, 300));
  const base64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : (JSON.stringify(v) ?? '')).toString('base64url');
  const xid = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
    fc.constantFrom('-1', '1e3', '0x10', ' 5', '5 ', '007', '18446744073709551615', '9223372036854775807', '9223372036854775808'),
    text,
    anyJson,
  );
  const uuidish = fc.oneof(
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    text,
    anyJson,
  );
  const shaped = fc.oneof(
    fc.record({ c: fc.record({ x: xid, id: uuidish }, { requiredKeys: [] }) }),
    fc.record({
      w: fc.record({ h: xid, since: fc.oneof(hostileDate, anyJson), after: fc.oneof(fc.tuple(hostileDate, uuidish), anyJson) }, { requiredKeys: [] }),
    }),
    fc.record({ c: fc.record({ x: xid }), w: anyJson }),
    anyJson,
  );
  const checkpoint = fc.oneof(
    shaped.map((v) => base64(v).slice(0, 2000)),
    fc.string({ maxLength: 300 }),
    text,
    fc.constantFrom(...NASTY_TEXT),
  );
  const limit = fc.oneof(
    fc.integer().map(String),
    fc.constantFrom('', '1e309', '-0', '0x10', 'NaN', 'Infinity', '1', '1000', '1001', '1.5', ' 7 ', '7&limit=8'),
    text,
  );
  await fc.assert(
    fc.asyncProperty(fc.option(checkpoint, { nil: undefined }), fc.option(limit, { nil: undefined }), async (cp, lim) => {
      requests++;
      const query = [cp !== undefined && `checkpoint=${encodeHostile(cp)}`, lim !== undefined && `limit=${encodeHostile(lim)}`]
        .filter(Boolean)
        .join('&');
      const r = await call(server.url, 'GET', `/api/sync/dispenses/pull?${query}`, { token, tally });
      const why = contractViolation(r);
      if (why) throw new Error(`${query}: ${why}`);
      expect([200, 400]).toContain(r.status);
      if (r.status === 200) {
        const page = pullResponseSchema.parse(r.body);
        expect(page.documents.every((d) => d.siteId === 'site-a')).toBe(true);
      }
    }),
    { numRuns: RUNS.pull },
  );
});

test('afterwards every stored record reads back valid, through the list and the detail routes', async () => {
  let cursor: string | null = null;
  let listed = 0;
  do {
    const r: Reply = await call(server.url, 'GET', `/api/dispenses?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
      token,
      tally,
    });
    expect(r.status).toBe(200);
    const page = dispensePageSchema.parse(r.body);
    listed += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  const found = await inspectDatabase(server.database!.url);
  expect(listed).toBe(found.byId.size);
  for (const id of [...expected.keys()].slice(0, 50)) {
    const r = await call(server.url, 'GET', `/api/dispenses/${id}`, { token, tally });
    expect(dispenseDetailSchema.safeParse(r.body).success).toBe(true);
  }
  expect(found.invalid).toEqual([]);
  expect(found.invalidAudit).toBe(0);
  expect(found.duplicated).toBe(0);
  expect(found.rows).toBe(expected.size);
  expect(found.audit).toBe(expected.size); // one "create" each, nothing else
  expect(tally.fiveXx).toBe(0);
});
