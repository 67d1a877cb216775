/**
 * The plans of the FHIR search at size: one site's records (300,000 by default, a year of a very
 * busy pharmacy) among other sites' (100,000), made inside PostgreSQL, then each kind of search run
 * through the server's own searchDispenses, its SQL captured (knex's query event) and explained
 * there (ANALYZE, BUFFERS). Prints, per search, the scan nodes, the rows a filter threw away and
 * the execution time. Run: npx tsx bench/fhir-plans.ts [--records 300000] [--patient-key-index]
 * (`--patient-key-index` builds the index of a patient's records by match key, as migration
 * 20261207000010 does, if the migrations did not: the plan of a build that has it; `--drop-index
 * <name>`, repeatable, drops an index first: the plan without it.)
 */
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import pg from 'pg';
import { matchKeySql } from '../schemas/match-key';
import { migrateLatest, openDatabase } from '../server/db';
import { searchDispenses } from '../server/fhir/search';
import { CURSOR_PARAM, encodeCursor, parseSearch } from '../server/fhir/search-params';
import { createTestDatabase } from '../test/support/postgres';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    others: { type: 'string', default: '100000' },
    'patient-key-index': { type: 'boolean' },
    'drop-index': { type: 'string', multiple: true, default: [] },
  },
});
const RECORDS = Number(values.records);
const OTHERS = Number(values.others);
const SITE = 'site-fhir';

async function seed(db: Knex): Promise<void> {
  // One record every 90 s from 1 January 2026 (300,000 fill ten months), 5000 patients, some ids
  // typed in lower case with a trailing space; 1 in 100 voided; the server's last change a minute
  // after the dispense, but for the newest 200, changed just now (what an incremental feed asks for).
  await db.raw(
    `INSERT INTO dispenses (external_id, site_id, patient_id, patient_name, medication_code, medication_name, quantity, unit,
       batch_number, expiry_date, dispensed_at, dispensed_by, status, void_reason, updated_at, server_updated_at)
     SELECT gen_random_uuid(), ?, CASE WHEN g % 7 = 0 THEN 'p' || (100000 + g % 5000) || ' ' ELSE 'P' || (100000 + g % 5000) END,
       'Patient ' || (g % 5000), 'MED' || (g % 300), 'Amoxicillin 500 mg capsules', 21, 'capsule', 'B' || (g % 97), DATE '2028-06-30',
       at, 'bench', CASE WHEN g % 100 = 0 THEN 'voided' ELSE 'dispensed' END, CASE WHEN g % 100 = 0 THEN 'Wrong patient' END,
       at, CASE WHEN g > ?::int - 200 THEN now() ELSE at + INTERVAL '1 minute' END
     FROM generate_series(1, ?::int) AS g, LATERAL (SELECT TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '90 seconds' AS at) t`,
    [SITE, RECORDS, RECORDS],
  );
  await db.raw(
    `INSERT INTO dispenses (external_id, site_id, patient_id, medication_code, medication_name, quantity, unit, dispensed_at, dispensed_by,
       status, updated_at, server_updated_at)
     SELECT gen_random_uuid(), 'site-' || (g % 10), 'P' || (100000 + g % 5000), 'MED1', 'Paracetamol 500 mg tablets', 16, 'tablet',
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '270 seconds', 'bench', 'dispensed',
       TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '270 seconds', TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '270 seconds'
     FROM generate_series(1, ?::int) AS g`,
    [OTHERS],
  );
  await db.raw('VACUUM ANALYZE dispenses');
}

async function main(): Promise<void> {
  const database = await createTestDatabase('sems_bench_fhir');
  const db = await openDatabase({ url: database.url, dataDir: 'unused', poolMax: 2 });
  const explain = new pg.Client({ connectionString: database.url });
  try {
    await explain.connect();
    await migrateLatest(db);
    const made = Date.now();
    await seed(db);
    if (values['patient-key-index']) {
      const key = matchKeySql('patient_id');
      await db.raw(`CREATE INDEX IF NOT EXISTS dispenses_site_patient_key ON dispenses (site_id, (${key}), dispensed_at DESC, external_id DESC)`);
    }
    for (const name of values['drop-index']!) await db.raw(`DROP INDEX ${name}`);
    await db.raw('ANALYZE dispenses');
    const { rows: ix } = await db.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'dispenses' ORDER BY 1");
    console.log(`[fhir-plans] ${RECORDS} records at ${SITE}, ${OTHERS} at 10 other sites, made in ${((Date.now() - made) / 1000).toFixed(1)} s`);
    console.log(`[fhir-plans] indexes: ${ix.map((r: { indexname: string }) => r.indexname).join(', ')}`);
    console.log(`[fhir-plans] patient key in SQL: ${matchKeySql('patient_id').slice(0, 40)}...`);

    const { rows: recent } = await db.raw(
      "SELECT min(server_updated_at) AS at FROM dispenses WHERE site_id = ? AND server_updated_at > now() - interval '1 hour'",
      [SITE],
    );
    // [what, query, and for a later page: the search whose first page's next cursor it follows]
    const searches: [string, string, string?][] = [
      ['the site, first page of 50', ''],
      ['patient (key match), first page', 'patient=p100042'],
      ['patient, the page after 20', 'patient=P100042&_count=20', 'patient=P100042&_count=20'],
      ['a day (whenhandedover=eq)', 'whenhandedover=2026-06-01'],
      ['a month (ge + lt)', 'whenhandedover=ge2026-06-01&whenhandedover=lt2026-07-01'],
      ['patient and a month', 'patient=P100042&whenhandedover=ge2026-06-01&whenhandedover=lt2026-07-01'],
      ['status=entered-in-error', 'status=entered-in-error'],
      ['_lastUpdated of the last hour (200 records)', `_lastUpdated=ge${new Date(recent[0].at).toISOString()}`],
      ['a deep page (after 1 October)', '', 'whenhandedover=ge2026-10-01&_count=1'],
    ];
    for (const [label, query, after] of searches) {
      const params = new URLSearchParams(query);
      if (after) params.set(CURSOR_PARAM, encodeCursor((await searchDispenses(db, SITE, parseSearch(new URLSearchParams(after)))).next!));
      let captured: { sql: string; bindings: readonly unknown[] } | undefined;
      const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => (captured = { sql: q.sql, bindings: q.bindings ?? [] });
      db.on('query', onQuery);
      const page = await searchDispenses(db, SITE, parseSearch(params));
      db.off('query', onQuery);
      // knex's query event gives the statement as the driver sends it ($1, $2...): explained through pg itself.
      const { rows } = await explain.query(`EXPLAIN (ANALYZE, BUFFERS) ${captured!.sql}`, captured!.bindings as unknown[]);
      const plan: string[] = rows.map((r: Record<string, string>) => r['QUERY PLAN']);
      const scans = plan.filter((l) => /Scan|Sort Method|Rows Removed|Execution Time/.test(l)).map((l) => `    ${l.trim()}`);
      console.log(`\n[fhir-plans] ${label}: ${query || '(no parameters)'} -> ${page.resources.length} records${page.next ? ', more' : ''}`);
      console.log(scans.join('\n'));
    }
  } finally {
    await explain.end();
    await db.destroy();
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
