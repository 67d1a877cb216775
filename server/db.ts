/**
 * Opens the database through knex: PostgreSQL when DATABASE_URL is set, else an embedded
 * PostgreSQL (PGlite) kept in SEMS_DATA_DIR. Both run the same migrations and queries.
 */
import path from 'node:path';
import fs from 'node:fs';
import knex, { type Knex } from 'knex';
import pg from 'pg';
import { migrationSource } from '../migrations';

// DATE stays 'YYYY-MM-DD' (no time-zone shift through a JS Date); counts come back as numbers.
const DATE_OID = 1082;
const INT8_OID = 20;
pg.types.setTypeParser(DATE_OID, (v) => v);
pg.types.setTypeParser(INT8_OID, (v) => Number(v));

export type Database = Knex & { embedded: boolean };

export async function openDatabase(opts: {
  url?: string;
  dataDir: string;
  poolMax?: number;
  /** Where knex's warnings go (a lost connection, say); knex writes to the console otherwise. */
  log?: (line: string) => void;
}): Promise<Database> {
  let db: Knex;
  if (opts.url) {
    const log = opts.log ?? console.log;
    const say = (message: unknown) => log(`database: ${String(message)}`);
    db = knex({
      client: 'pg',
      connection: { connectionString: opts.url, connectionTimeoutMillis: 5000 },
      pool: { min: 0, max: opts.poolMax ?? 10 },
      acquireConnectionTimeout: 10000,
      log: { warn: say, error: say, deprecate: say, debug: say },
    });
  } else {
    const { PGlite } = await import('@electric-sql/pglite');
    const { default: ClientPgLite } = await import('knex-pglite');
    const dir = path.resolve(opts.dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    const pglite = new PGlite(dir, { parsers: { [DATE_OID]: (v: string) => v, [INT8_OID]: (v: string) => Number(v) } });
    db = knex({ client: ClientPgLite as unknown as typeof knex.Client, connection: { pglite } as never });
  }
  return Object.assign(db, { embedded: !opts.url });
}

// Any fixed number, the same in every instance: the key of the migration's advisory lock.
const MIGRATION_LOCK_KEY = 5_031_001;

export async function migrateLatest(db: Knex): Promise<string[]> {
  const latest = async () => ((await db.migrate.latest({ migrationSource })) as [number, string[]])[1];
  if (db.client.config.client !== 'pg') return latest(); // embedded: one process, nothing to race
  // Instances started together on a new database race to create knex's own migration tables
  // (the loser exits with "relation knex_migrations_lock already exists"): one migrates at a
  // time, under an advisory lock held by a transaction on a connection of its own.
  return db.transaction(async (trx) => {
    await trx.raw('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    return latest();
  });
}

export async function isDatabaseUp(db: Knex, timeoutMs = 2000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([db.raw('select 1').then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** True when every migration this version knows has been applied (the readiness probe). */
export async function migrationsCurrent(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list({ migrationSource })) as [unknown[], unknown[]];
  return pending.length === 0;
}
