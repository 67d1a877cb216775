/**
 * Prints the row counts of an embedded (PGlite) data folder as JSON. PGlite cannot load inside
 * jest's module sandbox, so the embedded-start test reads its database through this script.
 * usage: tsx test/server/bin/pglite-counts.ts <SEMS_DATA_DIR>
 */
import { openDatabase } from '../../../server/db';

async function main(): Promise<void> {
  const db = await openDatabase({ dataDir: process.argv[2] });
  try {
    const one = async (sql: string) => Number(((await db.raw(sql)) as { rows: { n: number }[] }).rows[0].n);
    const counts = {
      dispenses: await one('SELECT count(*) AS n FROM dispenses'),
      audit: await one('SELECT count(*) AS n FROM audit_logs'),
      creates: await one("SELECT count(*) AS n FROM audit_logs WHERE action = 'create'"),
      users: await one('SELECT count(*) AS n FROM users'),
    };
    process.stdout.write(JSON.stringify(counts));
  } finally {
    await db.destroy();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
