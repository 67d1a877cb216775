/**
 * A device whose sync marks were written by an earlier build (schema version 0, a mark per
 * pending or confirmed record) opens with this build: the marks still worth keeping remain, the
 * others go, and the records themselves are untouched.
 */
import '../support/local-storage';
import { addRxPlugin, createRxDatabase, type RxJsonSchema } from 'rxdb';
import { RxDBMigrationSchemaPlugin } from 'rxdb/plugins/migration-schema';
import { openDispenseDatabase } from '../../client/data/db';
import { syncMarkSchema } from '../../client/data/marks';
import { newBrowser } from '../support/device';

addRxPlugin(RxDBMigrationSchemaPlugin);

/** The marks' schema as the earlier build had it. */
const iso = { type: 'string', maxLength: 24 } as const;
const version0 = {
  ...syncMarkSchema,
  version: 0,
  properties: {
    externalId: { type: 'string', maxLength: 36 },
    state: { type: 'string', enum: ['pending', 'rejected', 'synced'], maxLength: 8 },
    localUpdatedAt: iso,
    ackedUpdatedAt: iso,
    rejectedUpdatedAt: iso,
    code: { type: 'string', maxLength: 64 },
    reason: { type: 'string', maxLength: 2000 },
    pendingSince: iso,
    markedAt: iso,
    superseded: { type: 'string', maxLength: 20000 },
  },
} as unknown as RxJsonSchema<Record<string, unknown>>;

test("an earlier build's marks: refusals and kept versions stay, pending and confirmed marks go", async () => {
  const { storage } = newBrowser();
  const name = `marks-migration-${process.pid}`;
  const old = await createRxDatabase({ name, storage, multiInstance: false });
  await old.addCollections({ syncmarks: { schema: version0 } });
  const t = '2026-11-20T08:00:00.000Z';
  const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  await old.syncmarks.bulkInsert([
    { externalId: id(1), state: 'pending', localUpdatedAt: t, pendingSince: t, markedAt: t },
    { externalId: id(2), state: 'synced', localUpdatedAt: t, ackedUpdatedAt: t, markedAt: t },
    { externalId: id(3), state: 'synced', localUpdatedAt: t, ackedUpdatedAt: t, markedAt: t, superseded: '{"quantity":3}' },
    { externalId: id(4), state: 'rejected', localUpdatedAt: t, rejectedUpdatedAt: t, code: 'invalid_record', reason: 'Bad', markedAt: t },
  ]);
  await old.close();

  const db = await openDispenseDatabase(name, { storage, devMode: true });
  try {
    const marks = (await db.syncmarks.find({ sort: [{ externalId: 'asc' }] }).exec()).map((m) => m.toJSON());
    expect(marks).toEqual([
      { externalId: id(3), state: 'superseded', localUpdatedAt: t, markedAt: t, superseded: '{"quantity":3}' },
      { externalId: id(4), state: 'rejected', localUpdatedAt: t, rejectedUpdatedAt: t, code: 'invalid_record', reason: 'Bad', markedAt: t },
    ]);
  } finally {
    await db.remove();
  }
});
