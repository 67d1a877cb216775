/**
 * The migrations, listed in order. Listed by import rather than read from the folder, so the
 * bundled server and the TypeScript sources run exactly the same migrations.
 */
import type { Knex } from 'knex';
import * as initial from './20261125000001_initial';

const migrations: Record<string, Knex.Migration> = {
  '20261125000001_initial': initial,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name],
};
