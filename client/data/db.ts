/**
 * The local database: RxDB on IndexedDB (the free Dexie storage), shared by every tab of the
 * browser (multiInstance, leader election). `dispenses` holds the records, `syncmarks` the
 * versions the server refused or replaced (data/marks.ts; what it confirmed is known by range,
 * the push checkpoint of sync/checkpoint.ts), local documents the leader tab's last sync status, kept for the next leader (sync/tabs.ts).
 */
import { addRxPlugin, createRxDatabase, defaultHashSha256, type HashFunction, type RxDatabase } from 'rxdb';
import { RxDBLeaderElectionPlugin } from 'rxdb/plugins/leader-election';
import { RxDBLocalDocumentsPlugin } from 'rxdb/plugins/local-documents';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import type { RxCollection, RxJsonSchema } from 'rxdb';
import type { Dispense } from '../../schemas/dispense';
import { dispenseRxJsonSchema } from '../../schemas/rxdb-schema';
import { dispenseMigrationStrategies } from './dispense-migrations';
import { withStalePullsRefused } from './stale-pulls';
import { withIndexReads, withLocalReplicationMeta, type AnyRxStorage } from './rxdb';
import { dispenseConflictHandler } from './conflict';
import { markMigrations, syncMarkSchema, type SyncMarkCollection } from './marks';

export type DispenseCollection = RxCollection<Dispense>;

export type DispenseDatabase = RxDatabase<{ dispenses: DispenseCollection; syncmarks: SyncMarkCollection }>;

export interface OpenOptions {
  /** Another RxStorage (tests pass the Dexie storage on fake-indexeddb). Default: Dexie on IndexedDB. */
  storage?: AnyRxStorage;
  /**
   * RxDB dev-mode with schema validation. It loads a tracking iframe, so never in a production
   * build: the browser entry passes `import.meta.env.DEV`; under jest (NODE_ENV=test) it is on.
   */
  devMode?: boolean;
}

addRxPlugin(RxDBLeaderElectionPlugin);
addRxPlugin(RxDBLocalDocumentsPlugin);
// A new version of the app whose collection schema changed moves the stored records over (dispense-migrations.ts).
addRxPlugin(RxDBMigrationSchemaPlugin);

let devModeAdded = false;

function defaultDevMode(): boolean {
  // Not `process.env.NODE_ENV`: bundlers replace that literal; a browser build has no process.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.NODE_ENV === 'test';
}

/**
 * Dev-mode checks and schema validation around `storage`. A build without the dev-mode plugin
 * (a production build excludes it) opens the records without it rather than not at all.
 */
async function withDevMode(storage: AnyRxStorage): Promise<AnyRxStorage> {
  try {
    const [{ RxDBDevModePlugin, disableWarnings }, { wrappedValidateAjvStorage }] = await Promise.all([
      import('rxdb/plugins/dev-mode'),
      import('rxdb/plugins/validate-ajv'),
    ]);
    if (!devModeAdded) {
      disableWarnings();
      addRxPlugin(RxDBDevModePlugin);
      devModeAdded = true;
    }
    return wrappedValidateAjvStorage({ storage });
  } catch (err) {
    console.warn('RxDB dev-mode is not available in this build; opening the database without it.', err);
    return storage;
  }
}

/**
 * RxDB hashes with crypto.subtle, which a browser gives only to a secure context (https,
 * localhost): on a pharmacy LAN served over plain http it is missing, and RxDB would not open.
 * There, the same SHA-256 in JavaScript (the same hex, so a database made either way opens the
 * other way), loaded only when needed.
 */
export const hashFunction: HashFunction = async (input) => {
  if (typeof globalThis.crypto?.subtle?.digest === 'function') return defaultHashSha256(input);
  const [{ sha256 }, { bytesToHex }] = await Promise.all([import('@noble/hashes/sha2.js'), import('@noble/hashes/utils.js')]);
  const bytes =
    typeof input === 'string' ? new TextEncoder().encode(input) : new Uint8Array(input instanceof ArrayBuffer ? input : await input.arrayBuffer());
  return bytesToHex(sha256(bytes));
};

/** Opens (or makes) the database `name`; the app names one per site (site.ts). */
export async function openDispenseDatabase(name: string, opts: OpenOptions = {}): Promise<DispenseDatabase> {
  const base = withIndexReads(opts.storage ?? getRxStorageDexie());
  let storage: AnyRxStorage = withLocalReplicationMeta(withStalePullsRefused(base));
  if (opts.devMode ?? defaultDevMode()) storage = await withDevMode(storage);
  const db = (await createRxDatabase({
    name,
    storage,
    hashFunction,
    multiInstance: true,
    localDocuments: true,
    eventReduce: true,
  })) as DispenseDatabase;
  try {
    await db.addCollections({
      dispenses: {
        schema: dispenseRxJsonSchema() as unknown as RxJsonSchema<Dispense>,
        migrationStrategies: dispenseMigrationStrategies(dispenseRxJsonSchema().version),
        conflictHandler: dispenseConflictHandler,
      },
      syncmarks: { schema: syncMarkSchema, migrationStrategies: markMigrations },
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
