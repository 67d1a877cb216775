/**
 * `npx tsx bench/ingest-sql.ts --records 20000`: where a push's time goes, without HTTP. On one
 * connection, batches of 1000 into empty tables, each in its own transaction: the push's insert
 * statement (a JSON parameter read by jsonb_to_record; the audit rows from its RETURNING), the
 * same statement fed one array per field through unnest (the audit row's record rebuilt with
 * to_jsonb), and COPY of the same rows, interleaved, best of each; and the Node work a batch costs
 * the server before SQL (JSON body, zod, the statement's parameter).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import { pushRequestSchema } from '../schemas/api';
import { DISPENSE_FIELDS, dispenseSchema, type Dispense } from '../schemas/dispense';
import { migrateLatest, openDatabase } from '../server/db';
import { INSERT_SQL } from '../server/push-sql';
import { COLUMN_TYPES } from '../server/records';
import { createTestDatabase } from '../test/support/postgres';
import { makeDispense } from '../test/support/records';
import { copyRecords, prepareCopy } from './copy-limit';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } } });
const N = Number(args.records);
const BATCH = 1000;
const rate = (ms: number) => Math.round((N / ms) * 1000);
// The unnest form: every field as text (as sent, so the audit copy is the pushed text), quantity as
// a number, cast where inserted; the audit row's record rebuilt from the fields.
const arrayType = (f: keyof Dispense) => (f === 'quantity' ? 'double precision' : 'text');
const UNNEST_SQL = INSERT_SQL.replace(
  /SELECT e AS doc, r\.\* FROM jsonb_array_elements\(\?::jsonb\) AS e, jsonb_to_record\(e\) AS r\([^)]*\)/,
  `SELECT jsonb_strip_nulls(to_jsonb(r)) AS doc, r.* FROM unnest(${DISPENSE_FIELDS.map((f) => `?::${arrayType(f)}[]`).join(', ')}) AS r(${DISPENSE_FIELDS.map((f) => `"${f}"`).join(', ')})`,
)
  .replace(/SELECT ("externalId", .*) FROM input ORDER BY "externalId"/, (_, cols: string) => {
    const cast = cols.replace(/"(\w+)"/g, (m: string, f: keyof Dispense) => (arrayType(f) === COLUMN_TYPES[f] ? m : `${m}::${COLUMN_TYPES[f]}`));
    return `SELECT ${cast} FROM input ORDER BY "externalId"::uuid`;
  })
  .replace(/i\."externalId" = /g, 'i."externalId"::uuid = ')
  .replace(/= i\."externalId"\)/g, '= i."externalId"::uuid)');
const unnestParams = (docs: Dispense[]) => DISPENSE_FIELDS.map((f) => docs.map((d) => d[f] ?? null));
const jsonParams = (docs: Dispense[]) => [JSON.stringify(docs)];
// The statement's other parameters as push.ts passes them: actor, device, request, and the
// device offset's site and device.
const tailParams = (sql: string, leading: number) => {
  const extra = (sql.match(/\?/g) ?? []).length - leading;
  if (extra !== 5) throw new Error(`the insert statement has ${extra} parameters this bench does not know`);
  return ['bench', 'bench', 'bench-request', 'site-bench', 'bench'];
};
const toDollars = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};
const time = (fn: () => void, times = 20) => {
  for (let i = 0; i < 5; i++) fn(); // warm, as a server is: compiled parsers and V8's optimised code
  const start = performance.now();
  for (let i = 0; i < times; i++) fn();
  return (performance.now() - start) / times;
};

async function main(): Promise<void> {
  const database = await createTestDatabase('sems_bench_sql');
  try {
    const db = await openDatabase({ url: database.url, dataDir: '' });
    await migrateLatest(db);
    await db.destroy();
    const records: Dispense[] = Array.from({ length: N }, (_, i) => makeDispense({ siteId: 'site-bench', dispensedBy: 'bench' }, i));
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const truncate = () =>
      client.query('TRUNCATE dispenses, audit_logs, site_sync RESTART IDENTITY').then(() => client.query('VACUUM ANALYZE dispenses, audit_logs'));

    // Node, per batch of 1000, before any SQL.
    const batch = records.slice(0, BATCH);
    const body = JSON.stringify({ rows: batch.map((d) => ({ newDocumentState: d, assumedMasterState: null })) });
    const parsedBody = JSON.parse(body) as { rows: { newDocumentState: Dispense }[] };
    console.log(`Node, per batch of ${BATCH} (body ${Math.round(body.length / 1024)} KB):`);
    console.log(`  JSON.parse of the body      ${time(() => JSON.parse(body)).toFixed(2)} ms`);
    const compiledEnvelope = z.compile(pushRequestSchema);
    console.log(`  push envelope (zod)         ${time(() => pushRequestSchema.parse(parsedBody)).toFixed(2)} ms`);
    console.log(`  push envelope (z.compile, the push's)  ${time(() => compiledEnvelope.parse(parsedBody)).toFixed(2)} ms`);
    console.log(
      `  each record (zod)           ${time(() => parsedBody.rows.forEach((r) => dispenseSchema.parse(r.newDocumentState))).toFixed(2)} ms`,
    );
    const compiled = z.compile(dispenseSchema);
    console.log(
      `  each record (z.compile, the push's)  ${time(() => parsedBody.rows.forEach((r) => compiled.parse(r.newDocumentState))).toFixed(2)} ms`,
    );
    console.log(`  statement parameter (JSON)  ${time(() => jsonParams(batch)).toFixed(2)} ms`);

    const copyInput = prepareCopy(records, 'bench');
    const forms = [
      {
        name: 'jsonb_to_record (the push)',
        text: toDollars(INSERT_SQL),
        params: (d: Dispense[]) => [...jsonParams(d), ...tailParams(INSERT_SQL, 1)],
      },
      {
        name: 'unnest of arrays',
        text: toDollars(UNNEST_SQL),
        params: (d: Dispense[]) => [...unnestParams(d), ...tailParams(UNNEST_SQL, DISPENSE_FIELDS.length)],
      },
    ];
    const runs = new Map<string, number[]>([['COPY', []], ...forms.map((f) => [f.name, []] as [string, number[]])]);
    for (let round = 0; round < Number(args.rounds); round++) {
      await truncate();
      runs.get('COPY')!.push(await copyRecords(database.url, copyInput));
      for (const form of forms) {
        await truncate();
        const start = performance.now();
        for (let i = 0; i < N; i += BATCH) {
          await client.query('BEGIN');
          await client.query(form.text, form.params(records.slice(i, i + BATCH)));
          await client.query('COMMIT');
        }
        runs.get(form.name)!.push(performance.now() - start);
        const { rows } = await client.query('SELECT (SELECT count(*)::int FROM dispenses) AS d, (SELECT count(*)::int FROM audit_logs) AS a');
        if (rows[0].d !== N || rows[0].a !== N) throw new Error(`${form.name}: ${rows[0].d} records, ${rows[0].a} audit rows`);
      }
      console.log(
        `round ${round + 1}: ${[...runs].map(([k, v]) => `${k} ${rate(v.at(-1)!)}`).join(', ')} rows/s (load ${os.loadavg()[0].toFixed(2)})`,
      );
    }
    const copy = rate(Math.min(...runs.get('COPY')!));
    console.log(`best of ${args.rounds}, one connection, batches of ${BATCH}, a commit each: COPY ${copy} rows/s`);
    for (const form of forms) {
      const r = rate(Math.min(...runs.get(form.name)!));
      console.log(`  ${form.name}: ${r} rows/s = ${((r / copy) * 100).toFixed(1)}% of COPY`);
    }
    await client.end();
  } finally {
    await database.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
