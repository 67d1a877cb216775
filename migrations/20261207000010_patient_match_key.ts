/**
 * A patient's history matches the patient id ignoring case and surrounding space: the index of a
 * patient's records is on the id's match key (schemas/match-key.ts, docs/decisions/match-keys.md)
 * instead of the id as typed, which nothing reads by any more. The expression is written out here,
 * frozen: the server's query must produce exactly this expression to be served by the index
 * (test/server/matching.test.ts checks the plan).
 */
import type { Knex } from 'knex';

// lower(btrim(…)) of JavaScript's trim() characters, under ICU's root collation.
const PATIENT_KEY = `lower(btrim(patient_id, U&'\\0009\\000A\\000B\\000C\\000D\\0020\\00A0\\1680\\2000\\2001\\2002\\2003\\2004\\2005\\2006\\2007\\2008\\2009\\200A\\2028\\2029\\202F\\205F\\3000\\FEFF') COLLATE "und-x-icu")`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX dispenses_site_patient_key ON dispenses (site_id, (${PATIENT_KEY}), dispensed_at DESC, external_id DESC)`);
  await knex.raw('DROP INDEX dispenses_site_patient');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX dispenses_site_patient ON dispenses (site_id, patient_id, dispensed_at DESC, external_id DESC)');
  await knex.raw('DROP INDEX dispenses_site_patient_key');
}
