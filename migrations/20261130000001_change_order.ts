/**
 * The pull's change order and the patient history's index. Each write of a record stamps it with
 * its transaction's id (xid8, never wraps); a pull reads a site's records in (change_xid,
 * external_id) order, only below the oldest transaction still in progress, so a row committed
 * late cannot fall behind a checkpoint. See docs/decisions/pull-checkpoint.md.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Rows written before this migration get 0, before any real transaction: a constant default is
  // stored in the catalog, so no table rewrite. Later rows take their writer's id.
  await knex.raw("ALTER TABLE dispenses ADD COLUMN change_xid xid8 NOT NULL DEFAULT '0'");
  await knex.raw('ALTER TABLE dispenses ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id()');
  // A pull of the site's changes after a checkpoint: one range of this index, in its order.
  await knex.raw('CREATE INDEX dispenses_site_change ON dispenses (site_id, change_xid, external_id)');
  // A patient's history at the counter, newest first, paged like the site's list.
  await knex.raw('CREATE INDEX dispenses_site_patient ON dispenses (site_id, patient_id, dispensed_at DESC, external_id DESC)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX dispenses_site_patient');
  await knex.raw('DROP INDEX dispenses_site_change');
  await knex.raw('ALTER TABLE dispenses DROP COLUMN change_xid');
}
