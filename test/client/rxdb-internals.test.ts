/**
 * The assumptions client/rxdb-internals.ts makes about RxDB hold for the installed version, and
 * a broken one throws instead of quietly reading something else.
 */
import './local-storage';
import { RXDB_VERSION } from 'rxdb';
import type { DispenseDatabase } from '../../client/db';
import { countAfter } from '../../client/index-read';
import { createDispenses } from '../../client/records';
import { checkRxdbVersion, dexieDocsOf, indexOf, queryPlanOf, RxdbInternalsChanged, WRITTEN_FOR_RXDB } from '../../client/rxdb-internals';
import { inputFor, newBrowser } from './support';

let db: DispenseDatabase;
beforeEach(async () => {
  db = await newBrowser().open();
});
afterEach(async () => {
  await db.remove();
});

test('the installed RxDB is the version rxdb-internals.ts was written for (upgrading: re-check it, then change WRITTEN_FOR_RXDB)', () => {
  expect(RXDB_VERSION).toBe(WRITTEN_FOR_RXDB);
  expect(() => checkRxdbVersion(true)).not.toThrow();
});

test("the app's collections are on the Dexie storage (through dev-mode's validation), with the indexes the reads use", async () => {
  expect(dexieDocsOf(db.dispenses)).not.toBeNull();
  const { indexName } = queryPlanOf(db.dispenses, { sort: [{ dispensedAt: 'asc' }, { externalId: 'asc' }] });
  expect(indexName).toBe('[_deleted+dispensedAt+externalId]');
  await dexieDocsOf(db.dispenses)!.read(async (r) => {
    expect(() => indexOf(r.store, indexName)).not.toThrow();
    expect(() => indexOf(r.store, '[_meta.lwt+externalId]')).not.toThrow();
    expect(() => indexOf(r.store, '[no+such]')).toThrow(RxdbInternalsChanged);
  });
});

test('a Dexie storage whose internals are not what was assumed fails loudly, not with a wrong answer', async () => {
  await createDispenses(db, [inputFor(1)], { username: 'alice', siteId: 'site-a' });
  expect(await countAfter(db.dispenses, null)).toBe(1);
  const instance = db.dispenses.storageInstance as unknown as { internals: unknown };
  const internals = instance.internals;
  // A fresh collection object whose storage instance lost the field the reads rely on.
  const broken = {
    ...db.dispenses,
    database: db.dispenses.database,
    schema: db.dispenses.schema,
    storageInstance: { ...instance, internals: undefined },
  };
  await expect(countAfter(broken as never, null)).rejects.toThrow(RxdbInternalsChanged);
  expect(instance.internals).toBe(internals);
});
