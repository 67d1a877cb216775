/**
 * A patient's history on the server matches the patient id ignoring case and surrounding space,
 * on a real server and PostgreSQL with real tokens; the SQL match key agrees with the device's
 * (schemas/match-key.ts), and the query is served by the migration's expression index.
 */
import pg from 'pg';
import { dispensePageSchema } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { matchKey, matchKeySql, TRIMMED_SPACE } from '../../schemas/match-key';
import { call, push, pushBody } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { openCounter, type Counter } from './counter';

let server: TestServer;
let counter: Counter;
let alice: string; // site-a
let zed: string; // site-b
const history: Dispense[] = [];

beforeAll(async () => {
  server = await startTestServer();
  counter = openCounter(server.database!.url);
  await server.addUser('alice', 'site-a');
  await server.addUser('zed', 'site-b');
  [alice, zed] = await Promise.all(['alice', 'zed'].map(async (u) => (await server.login(u)).token));
  // One patient typed four ways at site-a, among a patient whose id only starts alike and another
  // site's record of the same id.
  const ids = ['P-1001', 'p-1001 ', '\u00a0P-1001', '\tp-1001\u3000'];
  ids.forEach((patientId, i) => history.push(makeDispense({ siteId: 'site-a', dispensedBy: 'alice', patientId }, 100 + i * 60)));
  const others = [
    makeDispense({ siteId: 'site-a', dispensedBy: 'alice', patientId: 'P-10010' }, 500),
    makeDispense({ siteId: 'site-a', dispensedBy: 'alice', patientId: 'P 1001' }, 501),
  ];
  expect((await push(server.url, alice, pushBody([...history, ...others]))).status).toBe(200);
  expect((await push(server.url, zed, pushBody([makeDispense({ siteId: 'site-b', dispensedBy: 'zed', patientId: 'P-1001' }, 502)]))).status).toBe(
    200,
  );
});

afterAll(async () => {
  await counter?.close();
  await server?.stop();
});

const newestFirst = (a: Dispense, b: Dispense) => b.dispensedAt.localeCompare(a.dispensedAt) || b.externalId.localeCompare(a.externalId);

async function historyOf(patientId: string, token = alice, extra = ''): Promise<{ items: Dispense[]; nextCursor: string | null }> {
  const res = await call(server.url, 'GET', `/api/dispenses?${new URLSearchParams({ patientId })}${extra}`, { token });
  expect(res.status).toBe(200);
  return dispensePageSchema.parse(res.body);
}

describe('GET /api/dispenses?patientId= ignores case and surrounding space', () => {
  test.each(['P-1001', 'p-1001', ' p-1001 ', '\u00a0P-1001\t', 'p-1001\u3000'])(
    "asked as %p, it answers the patient's four records at the site, typed in any case and spacing, newest first",
    async (asked) => {
      expect((await historyOf(asked)).items).toEqual([...history].sort(newestFirst));
    },
  );

  test("pages of the patient's history, by cursor, visit each record once", async () => {
    const first = await historyOf('p-1001 ', alice, '&limit=3');
    const second = await historyOf('p-1001 ', alice, `&limit=3&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect([...first.items, ...second.items]).toEqual([...history].sort(newestFirst));
    expect(second.nextCursor).toBeNull();
  });

  test("an id that only starts alike, or has a space inside, is another patient; another site's record stays there", async () => {
    expect((await historyOf('p-1001', zed)).items.map((d) => d.siteId)).toEqual(['site-b']);
    expect((await historyOf('P-10010')).items.map((d) => d.patientId)).toEqual(['P-10010']);
    expect((await historyOf('p 1001')).items.map((d) => d.patientId)).toEqual(['P 1001']);
  });

  test("the query the server sends is served by the migration's expression index", async () => {
    const sent: { sql: string; bindings: unknown[] }[] = [];
    const onQuery = (q: { sql: string; bindings?: unknown[] }) => sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
    server.db.on('query', onQuery);
    try {
      await historyOf(' P-1001');
    } finally {
      server.db.off('query', onQuery);
    }
    const list = sent.find((q) => q.sql.includes('from "dispenses"'));
    expect(list).toBeDefined();
    const plan = await explain(list!.sql, list!.bindings);
    expect(plan).toMatch(/Index (Only )?Scan using dispenses_site_patient_key/);
    expect(plan).not.toMatch(/\bSort\b/);
  });
});

/** EXPLAIN of a statement as the server sent it, with sequential scans off: only an index that can serve it is chosen. */
async function explain(sql: string, bindings: unknown[]): Promise<string> {
  const c = new pg.Client({ connectionString: server.database!.url });
  await c.connect();
  try {
    await c.query('SET enable_seqscan = off');
    const { rows } = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, bindings);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await c.end();
  }
}

describe('the match key in SQL agrees with the one on the device', () => {
  // Latin, Greek, Cyrillic, Armenian, Georgian and more, Latin Extended Additional, Greek Extended,
  // letterlike symbols (Kelvin, Ohm), Roman numerals, circled letters: blocks whose case mappings
  // are older than any ICU or JavaScript engine in use (the newest letters may differ, see
  // docs/decisions/match-keys.md).
  const ranges: [number, number][] = [
    [0x0001, 0x1c7f],
    [0x1e00, 0x24ff],
  ];
  const chars = ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)));
  const samples = [...chars, ...[...TRIMMED_SPACE].map((s) => `${s}P-1001${s}`), 'ΟΔΟΣ', 'ΣΑΣ ΣΑΣ', 'İSTANBUL', 'STRAßE', ' \u00a0AMOX500\ufeff'];

  test('for every character of those blocks, alone and between spaces, and for words of several letters', async () => {
    const rows = await counter.query<{ key: string }>(
      `SELECT ${matchKeySql('t.x')} AS key FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n`,
      [samples],
    );
    const differ = samples.filter((s, i) => rows[i].key !== matchKey(s)).map((s) => [...s].map((c) => c.codePointAt(0)!.toString(16)).join(' '));
    expect(differ).toEqual([]);
  });
});
