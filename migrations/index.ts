/**
 * The migrations, listed in order. Listed by import rather than read from the folder, so the
 * bundled server and the TypeScript sources run exactly the same migrations.
 */
import type { Knex } from 'knex';
import * as initial from './20261125000001_initial';
import * as changeOrder from './20261130000001_change_order';
import * as devices from './20261130000010_devices';
import * as siteRecordCounts from './20261130000020_site_record_counts';
import * as confirmationsAndReasons from './20261207000001_confirmations_and_reasons';
import * as patientMatchKey from './20261207000010_patient_match_key';
import * as deviceDetails from './20261207000020_device_details';
import * as access from './20261207000030_access';
import * as lastUpdated from './20261207000040_last_updated';

const migrations: Record<string, Knex.Migration> = {
  '20261125000001_initial': initial,
  '20261130000001_change_order': changeOrder,
  '20261130000010_devices': devices,
  '20261130000020_site_record_counts': siteRecordCounts,
  '20261207000001_confirmations_and_reasons': confirmationsAndReasons,
  '20261207000010_patient_match_key': patientMatchKey,
  '20261207000020_device_details': deviceDetails,
  '20261207000030_access': access,
  '20261207000040_last_updated': lastUpdated,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};
