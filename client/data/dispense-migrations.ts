/**
 * How the records stored on a device follow a change of the `dispenses` collection schema
 * (RxDB migrationStrategies, run when a new version of the app opens the database). The key is the
 * version a record is moved to; the function turns a record of the version before into it. A
 * record's `_meta.lwt` is kept by RxDB, and its replication checkpoint is migrated with it, so what
 * was pending stays pending and what was sent is not sent again (test/e2e/update.test.ts).
 */
import type { MigrationStrategies } from 'rxdb';
import { DISPENSE_SCHEMA_VERSION } from '../../schemas/rxdb-schema';

/** One entry per version after 0 of schemas/rxdb-schema.ts DISPENSE_SCHEMA_VERSION. */
const MIGRATIONS: MigrationStrategies = {
  // 1: a new index (a patient's records); the records themselves are as they were.
  1: (doc) => doc,
  // 2: three optional fields (a confirmed duplicate's who and when, an edit's reason); a record
  // of version 1 has none of them, so it is as it was. A duplicate confirmed before kept it in the notes.
  2: (doc) => doc,
};

/** The strategies for a database of `version` (a test build may store the same schema under a higher number). */
export function dispenseMigrationStrategies(version: number): MigrationStrategies {
  const strategies: MigrationStrategies = { ...MIGRATIONS };
  for (let v = DISPENSE_SCHEMA_VERSION + 1; v <= version; v++) strategies[v] ??= (doc) => doc;
  return strategies;
}
