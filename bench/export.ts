/**
 * The exports at size: a site's 1,000,000 records made inside PostgreSQL (generate_series, outside
 * the timing), then GET /api/dispenses/export.csv and the FHIR NDJSON export
 * (/fhir/R4/MedicationDispense/$export-ndjson) over one year, each read by a client that keeps
 * nothing. Prints the rows and bytes received, the time, and the server process's resident memory
 * at idle and at its peak during each download (Linux VmHWM, reset just before): both read keyset
 * pages of 1000, so the peak above idle should stay flat whatever the size.
 * Run: npx tsx bench/export.ts [--records 1000000]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { login } from '../test/support/api';
import { createTestDatabase } from '../test/support/postgres';
import { startServerProcess } from '../test/support/server-process';
import { seedUsers } from '../test/support/users';
import { RECOUNT_SITE_RECORDS_SQL } from '../server/site-counts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' } } });
const RECORDS = Number(values.records);
const SITE = 'site-export';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function main(): Promise<void> {
  const database = await createTestDatabase('sems_bench_export');
  const start = () => startServerProcess({ DATABASE_URL: database.url, RATE_API_PER_MINUTE: '100000' });
  let server = await start(); // migrates the new database
  try {
    await seedUsers(database.url, [{ username: 'bench-admin', siteId: SITE, role: 'admin' }]);
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    const made = Date.now();
    // One record every 20 s from 1 January 2026: a million fit in 232 days, inside one export's year.
    await sql.query(
      `INSERT INTO dispenses (external_id, site_id, patient_id, patient_name, medication_code, medication_name, quantity, unit,
         batch_number, expiry_date, dispensed_at, dispensed_by, status, notes, updated_at)
       SELECT gen_random_uuid(), $1, 'P' || (100000 + g % 5000), 'Patient ' || (g % 5000), 'MED' || (g % 300),
         'Amoxicillin 500 mg capsules', 21, 'capsule', 'B' || (g % 97), DATE '2028-06-30',
         TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '20 seconds', 'bench-admin', 'dispensed',
         CASE WHEN g % 10 = 0 THEN '=SUM(A1:A2), "quoted"' END,
         TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '20 seconds'
       FROM generate_series(1, $2::int) AS g`,
      [SITE, RECORDS],
    );
    await sql.query(RECOUNT_SITE_RECORDS_SQL); // the sites' counts, as the push keeps them
    await sql.query('VACUUM ANALYZE dispenses');
    await sql.end();
    console.log(`[export] ${RECORDS.toLocaleString('en')} records made in ${((Date.now() - made) / 1000).toFixed(1)} s (not timed below)`);

    // Each download from a server of its own, once it settles: its resident memory at idle, then its
    // peak during the download (a second download on the same server would start from the first's heap).
    const measure = async (label: string, path: string, rowsOf: (lineFeeds: number) => number) => {
      await server.stop();
      server = await start();
      const { token } = await login(server.url, 'bench-admin');
      await new Promise((r) => setTimeout(r, 1000));
      const idle = rssMb(server.pid);
      server.resetPeak();
      const started = Date.now();
      const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`${label}: ${res.status} ${await res.text()}`);
      let bytes = 0;
      let lines = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        for (const b of chunk) if (b === 10) lines++;
      }
      const seconds = (Date.now() - started) / 1000;
      const peak = server.peakRssMb();
      const rows = rowsOf(lines);
      console.log(
        `[export] ${label} rows=${rows.toLocaleString('en')} bytes=${(bytes / 1e6).toFixed(1)} MB time=${seconds.toFixed(1)} s ` +
          `(${Math.round(rows / seconds).toLocaleString('en')} rows/s) server RSS idle=${idle.toFixed(0)} MB peak=${peak.toFixed(0)} MB ` +
          `above idle=${(peak - idle).toFixed(0)} MB`,
      );
    };
    // Line feeds: one per row and the header (the quoted notes hold none).
    await measure('csv', '/api/dispenses/export.csv?from=2026-01-01&to=2027-01-01', (lines) => lines - 1);
    // One line per MedicationDispense, no header (JSON escapes the line breaks of a text).
    await measure('ndjson', '/fhir/R4/MedicationDispense/$export-ndjson?from=2026-01-01&to=2027-01-01', (lines) => lines);
  } finally {
    await server.stop();
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
