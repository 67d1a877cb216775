/**
 * Each site's record count (site_sync.records), which the push keeps as it inserts. A writer of
 * `dispenses` other than the push (the benchmark's preload; a migration's backfill, with its own
 * frozen copy of this statement) recounts with this once it is done: a site's row takes the site's count, a site without one gets one (its last
 * push then is its latest record's arrival).
 */
import type { Knex } from 'knex';

export const RECOUNT_SITE_RECORDS_SQL = `
  INSERT INTO site_sync (site_id, last_push_at, records)
  SELECT site_id, max(server_updated_at), count(*) FROM dispenses GROUP BY site_id
  ON CONFLICT (site_id) DO UPDATE SET records = EXCLUDED.records`;

export async function recountSiteRecords(q: Knex): Promise<void> {
  await q.raw(RECOUNT_SITE_RECORDS_SQL);
}
