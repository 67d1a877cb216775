/**
 * The migrations, listed in order. Listed by import rather than read from the folder, so the
 * bundled server and the TypeScript sources run exactly the same migrations.
 */
import type { Knex } from 'knex';
import * as initial from './20261125000001_initial';
import * as changeOrder from './20261130000001_change_order';
import * as devices from './20261130000010_devices';
import * as siteRecordCounts from './20261130000020_site_record_counts';
import * as patientMatchKey from './20261207000010_patient_match_key';

const migrations: Record<string, Knex.Migration> = {
  '20261125000001_initial': initial,
  '20261130000001_change_order': changeOrder,
  '20261130000010_devices': devices,
  '20261130000020_site_record_counts': siteRecordCounts,
  '20261207000010_patient_match_key': patientMatchKey,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};
