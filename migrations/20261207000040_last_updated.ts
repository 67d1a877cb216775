/**
 * The FHIR search by _lastUpdated (server_updated_at, the server's last change of a record), which
 * a health system polls for what changed since its last read: without an index of its own it read
 * every record of the site, 150 ms at 300,000 (docs/fhir.md, bench/fhir-plans.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX dispenses_site_server_updated ON dispenses (site_id, server_updated_at)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX dispenses_site_server_updated');
}
