/**
 * What the admin's devices view says of a device besides its figures: the browser and system it
 * runs (its User-Agent, as its last sync request sent it), a name the site's admin gives it, and
 * the records the server refused that it holds back (how many, and the first few with the reason).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE devices
    ADD COLUMN user_agent varchar(512),
    ADD COLUMN name varchar(60),
    ADD COLUMN refused_count integer,
    ADD COLUMN refused jsonb`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE devices DROP COLUMN user_agent, DROP COLUMN name, DROP COLUMN refused_count, DROP COLUMN refused');
}
