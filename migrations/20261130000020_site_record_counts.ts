/**
 * Each site's record count, kept with its last push (site_sync.records), so the sync status reads
 * two small rows instead of counting the tables: at 10 million records `count(*)` of all records
 * was an index-only scan of the whole primary key, 0.8-1.4 s (docs/benchmarks.md). The push adds
 * what it inserts in the statement that notes the site's push (server/push-sql.ts); records are
 * never deleted. Existing records are counted once here, by the recount as it was when this
 * migration was written (server/site-counts.ts), copied so that a later change there does not
 * change this migration.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE site_sync ADD COLUMN records bigint NOT NULL DEFAULT 0');
  await knex.raw(`
  INSERT INTO site_sync (site_id, last_push_at, records)
  SELECT site_id, max(server_updated_at), count(*) FROM dispenses GROUP BY site_id
  ON CONFLICT (site_id) DO UPDATE SET records = EXCLUDED.records`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE site_sync DROP COLUMN records');
}
