/**
 * The assumptions the RxDB adapter (client/data/rxdb/) makes about RxDB hold for the installed
 * version, and a broken one throws instead of quietly reading something else.
 */
import '../support/local-storage';
import { RXDB_VERSION } from 'rxdb';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispenses, editDispense } from '../../client/data/records';
import { checkRxdbVersion, isDexieStorage, RxdbInternalsChanged, WRITTEN_FOR_RXDB } from '../../client/data/rxdb/assumptions';
import { dexieDocsOf, indexOf, queryPlanOf } from '../../client/data/rxdb/dexie-read';
import { countAfter, type ChangesCheckpoint } from '../../client/data/rxdb/push-order';
import { checkpointWritten, watchPushCheckpoint } from '../../client/data/rxdb/replication-meta';
import { madeHerePage, markForResend } from '../../client/data/rxdb/resend-meta';
import { replicateRxCollection, type RxReplicationState } from 'rxdb/plugins/replication';
import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../support/records';
import { inputFor, newBrowser } from '../support/device';

let db: DispenseDatabase;
beforeEach(async () => {
  db = await newBrowser().open();
});
afterEach(async () => {
  await db.remove();
});

test('the installed RxDB is the version client/data/rxdb/ was written for (upgrading: re-check it, then change WRITTEN_FOR_RXDB)', () => {
  expect(RXDB_VERSION).toBe(WRITTEN_FOR_RXDB);
  expect(() => checkRxdbVersion(true)).not.toThrow();
});

test("one test says Dexie: the Dexie storage itself and RxDB's wrappers of it, nothing else", () => {
  expect(isDexieStorage({ name: 'dexie' })).toBe(true);
  expect(isDexieStorage({ name: 'validate-ajv-dexie' })).toBe(true);
  expect(isDexieStorage({ name: 'memory' })).toBe(false);
  expect(isDexieStorage({ name: 'notdexie' })).toBe(false);
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

describe('sending again what a restored server lost', () => {
  const alice = { username: 'alice', siteId: 'site-a' };

  /** A replication of `db.dispenses` whose pull brings `pulled` and whose push takes everything (answered with no conflict). */
  async function replicate(pulled: Dispense[], pushed: string[][]) {
    const state = replicateRxCollection<Dispense, number>({
      replicationIdentifier: 'rxdb-internals-test',
      collection: db.dispenses,
      pull: { handler: async (cp) => ({ documents: cp ? [] : pulled.map((d) => ({ ...d, _deleted: false })), checkpoint: 1 }) },
      push: {
        handler: async (rows) => {
          pushed.push(rows.map((r) => r.newDocumentState.externalId));
          return [];
        },
      },
      live: true,
      autoStart: false,
      toggleOnDocumentVisible: false,
      waitForLeadership: false,
    });
    await state.start();
    await state.awaitInSync();
    await checkpointWritten(state);
    await state.pause();
    return state;
  }

  test('a record new to this device by a pull is marked as pulled for good (an edit here keeps the mark); one made here is not', async () => {
    const [mine] = await createDispenses(db, [inputFor(1)], alice);
    const theirs = { ...makeDispense({ siteId: 'site-a', dispensedBy: 'bob' }, 2) };
    const state = await replicate([theirs], []);
    await editDispense(db, theirs.externalId, { notes: 'checked here' }, 'Corrected at the counter');
    const page = await madeHerePage(db.dispenses, null, 10);
    expect(page.made.map((d) => d.externalId)).toEqual([mine.externalId]);
    expect(page.last).toBe([mine.externalId, theirs.externalId].sort()[1]);
    expect((await madeHerePage(db.dispenses, page.last, 10)).last).toBeNull();
    // Paged by primary key: the first id alone, then the rest.
    const first = await madeHerePage(db.dispenses, null, 1);
    expect(first.last).toBe([mine.externalId, theirs.externalId].sort()[0]);
    await state.cancel();
  });

  test('a record marked to send again is pending (after the push checkpoint), unchanged, and the next push sends it and it alone', async () => {
    const made = await createDispenses(
      db,
      Array.from({ length: 5 }, (_, i) => inputFor(i)),
      alice,
    );
    const pushed: string[][] = [];
    const state = await replicate([], pushed);
    expect(pushed.flat().sort()).toEqual(made.map((d) => d.externalId).sort());
    const cp = await upCheckpoint(state);
    expect(await countAfter(db.dispenses, cp)).toBe(0);

    const again = [made[1].externalId, made[3].externalId];
    expect((await markForResend(state, db.dispenses, again)).sort()).toEqual([...again].sort());
    expect(await countAfter(db.dispenses, cp)).toBe(2);
    for (const id of again) expect((await db.dispenses.findOne(id).exec())!.toJSON()).toEqual(made.find((d) => d.externalId === id));
    // The assumed master state says the server holds nothing, as the meta document '<id>|0'.
    const [meta] = await state.metaInstance!.findDocumentsById([`${again[0]}|0`], true);
    expect(meta).toMatchObject({ itemId: again[0], isCheckpoint: '0', docData: { _deleted: true } });

    pushed.length = 0;
    await state.start();
    await state.awaitInSync();
    await checkpointWritten(state);
    expect(pushed.flat().sort()).toEqual([...again].sort());
    expect(await countAfter(db.dispenses, await upCheckpoint(state))).toBe(0);
    await state.cancel();
  });

  test('marking needs a started replication: before it has its meta, it fails loudly', async () => {
    const state = replicateRxCollection<Dispense, number>({
      replicationIdentifier: 'rxdb-internals-test-unstarted',
      collection: db.dispenses,
      push: { handler: async () => [] },
      live: true,
      autoStart: false,
      toggleOnDocumentVisible: false,
      waitForLeadership: false,
    });
    await expect(markForResend(state, db.dispenses, ['x'])).rejects.toThrow(RxdbInternalsChanged);
    await state.cancel();
  });
});

/** RxDB's push checkpoint as stored in the replication's meta. */
async function upCheckpoint(state: RxReplicationState<Dispense, number>): Promise<ChangesCheckpoint | null> {
  let cp: ChangesCheckpoint | null = null;
  const w = watchPushCheckpoint(state, (c) => {
    cp = c;
  });
  await w.read();
  w.sub.unsubscribe();
  return cp;
}
