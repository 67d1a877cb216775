/**
 * Each site's record count, kept with its last push (site_sync.records), so the sync status reads
 * two small rows instead of counting the tables: at 10 million records `count(*)` of all records
 * was an index-only scan of the whole primary key, 0.8-1.4 s (docs/benchmarks.md). The push adds
 * what it inserts in the statement that notes the site's push (server/push-sql.ts); records are
 * never deleted. Existing records are counted once here.
 */
import type { Knex } from 'knex';
import { recountSiteRecords } from '../server/site-counts';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE site_sync ADD COLUMN records bigint NOT NULL DEFAULT 0');
  await recountSiteRecords(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE site_sync DROP COLUMN records');
}
