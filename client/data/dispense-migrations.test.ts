/**
 * A new version of the app with a bumped collection schema opens the records an older version
 * left on the device: every record is still there, with its last-write time (which the push
 * checkpoint orders by), so pending records stay pending and sent ones are not sent again.
 */
import { DISPENSE_SCHEMA_VERSION } from '../../schemas/rxdb-schema';
import { newBrowser, inputFor } from '../../test/support/device';
import { createDispenses } from './records';
import type * as DbModule from './db';

const user = { username: 'pharm1', siteId: 'SITE-1' };

/** client/data/db.ts as a build with `version` would load it (vite.config.ts defines the global). */
function dbModuleOfVersion(version: number): typeof DbModule {
  const g = globalThis as { __SEMS_TEST_SCHEMA_VERSION__?: number };
  let mod!: typeof DbModule;
  g.__SEMS_TEST_SCHEMA_VERSION__ = version;
  try {
    jest.isolateModules(() => {
      mod = jest.requireActual<typeof DbModule>('./db');
    });
  } finally {
    delete g.__SEMS_TEST_SCHEMA_VERSION__;
  }
  return mod;
}

const next = DISPENSE_SCHEMA_VERSION + 1;

test('records of this schema version are all there after a build of the next version opens the database, with their write times', async () => {
  const browser = newBrowser();
  const before = await browser.open();
  const made = await createDispenses(
    before,
    [0, 1, 2].map((i) => inputFor(i)),
    user,
  );
  await before.dispenses.findOne(made[2].externalId).incrementalPatch({ notes: 'edited before the update' });
  const stored = async (db: typeof before) =>
    (await db.dispenses.find({ sort: [{ externalId: 'asc' }] }).exec()).map((d) => {
      const { _rev: _r, ...rest } = d.toJSON(true) as Record<string, unknown>;
      return rest;
    });
  const old = await stored(before);
  await before.close();

  const { openDispenseDatabase } = dbModuleOfVersion(next);
  const { getRxStorageDexie } = jest.requireActual<typeof import('rxdb/plugins/storage-dexie')>('rxdb/plugins/storage-dexie');
  const { IDBKeyRange } = jest.requireActual<typeof import('fake-indexeddb')>('fake-indexeddb');
  const after = await openDispenseDatabase(before.name, { storage: getRxStorageDexie({ indexedDB: browser.indexedDB, IDBKeyRange }), devMode: true });
  try {
    expect(after.dispenses.schema.version).toBe(next);
    expect(await stored(after as unknown as typeof before)).toEqual(old);
    const names = (await browser.indexedDB.databases()).map((d) => d.name);
    expect(names).toContain(`rxdb-dexie-${before.name}--${next}--dispenses`);
  } finally {
    await after.remove();
  }
});
