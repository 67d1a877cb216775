/** `npm run migrate`: applies pending migrations to the configured database. */
import { migrateLatest, openDatabase } from '../db';
import { parseEnv } from '../env';

async function main(): Promise<void> {
  const config = parseEnv();
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.SEMS_DATA_DIR });
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Already up to date');
  } finally {
    await db.destroy();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
