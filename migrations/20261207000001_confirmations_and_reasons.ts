/**
 * A confirmed possible duplicate's who and when, and an edit's reason, as columns of their own
 * (a confirmation was a text prefix in the notes, which pushed long notes over their limit).
 * Nullable, with no default: adding them rewrites no row, so it is instant on a large table.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE dispenses
    ADD COLUMN duplicate_confirmed_by varchar(64),
    ADD COLUMN duplicate_confirmed_at timestamptz,
    ADD COLUMN edit_reason varchar(500)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE dispenses DROP COLUMN duplicate_confirmed_by, DROP COLUMN duplicate_confirmed_at, DROP COLUMN edit_reason');
}
