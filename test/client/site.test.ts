/**
 * A device's data belongs to one site: database names per site, and the move of the records of
 * the single database of earlier versions into their sites' databases (fake-indexeddb, no server).
 */
import '../support/local-storage';
import { firstValueFrom } from 'rxjs';
import type { IDBFactory } from 'fake-indexeddb';
import { openDispenseDatabase, type DispenseDatabase } from '../../client/data/db';
import { LEGACY_DATABASE_NAME } from '../../client/data/legacy-database';
import { createDispenses, editDispense } from '../../client/data/records';
import { recordsIndexedDbName } from '../../client/data/rxdb';
import { encodeSiteId, openSiteDatabase, siteDatabaseName } from '../../client/data/site';
import { markRejected, markSuperseded } from '../../client/data/marks';
import { pendingCount$ } from '../../client/sync/pending';
import { inputFor, newBrowser, type Browser } from '../support/device';

const alice = { username: 'alice', siteId: 'SITE-A' };
const bob = { username: 'bob', siteId: 'site-b' };

describe('database names', () => {
  test('every site id gets a valid RxDB name, readable where the id is plain', () => {
    const ids = ['site-demo', 'SITE-E2E', 'Pharmacie Saint-Éloi', 'a/b', '$x', '_x', '1st', 'site-01'];
    for (const id of ids) expect(siteDatabaseName(id)).toMatch(/^[a-z][_a-z0-9-]*$/);
    expect(siteDatabaseName('site-demo')).toBe('sems-site-site-demo');
  });

  test('two different site ids never share a database', () => {
    const tricky = ['site', 'SITE', 'Site', '$site', '_73ite', 's ite', 'sïte', 'site-', 'site_2d'];
    expect(new Set(tricky.map(encodeSiteId)).size).toBe(tricky.length);
  });
});

describe('records of the database before site scoping', () => {
  let indexedDB: IDBFactory;
  let opts: { storage: Browser['storage']; indexedDB: IDBFactory; devMode: boolean };
  const opened: DispenseDatabase[] = [];
  const open = async (siteId: string) => {
    const db = await openSiteDatabase(siteId, opts);
    opened.push(db);
    return db;
  };
  const names = async () => (await indexedDB.databases()).map((d) => d.name);

  beforeEach(() => {
    const browser = newBrowser();
    indexedDB = browser.indexedDB;
    opts = { storage: browser.storage, indexedDB, devMode: true };
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) if (!db.closed) await db.remove();
  });

  /** The old build's database with 3 records of Alice's site and 2 of Bob's, some with marks. */
  async function legacyDatabase() {
    const legacy = await openDispenseDatabase(LEGACY_DATABASE_NAME, opts);
    const a = await createDispenses(
      legacy,
      [0, 1, 2].map((i) => inputFor(i)),
      alice,
    );
    const b = await createDispenses(
      legacy,
      [3, 4].map((i) => inputFor(i)),
      bob,
    );
    const now = new Date().toISOString();
    await legacy.syncmarks.bulkInsert([
      // What the old build did: Bob's token pushed Alice's record, the server refused it.
      markRejected(null, a[0].externalId, a[0].updatedAt, 'wrong_site', 'Records of site site-b only', now),
      markRejected(null, a[1].externalId, a[1].updatedAt, 'invalid_record', 'The record is not valid', now),
      markSuperseded(a[2], { ...a[2], quantity: 99 }, now),
    ]);
    await legacy.close();
    return { a, b };
  }

  test("a site's records move into its own database, pending; another site's stay until its user comes", async () => {
    const { a, b } = await legacyDatabase();

    const siteA = await open(alice.siteId);
    const moved = (await siteA.dispenses.find().exec()).map((d) => d.toJSON());
    expect(moved.map((d) => d.externalId).sort()).toEqual(a.map((d) => d.externalId).sort());
    expect(moved.every((d) => d.siteId === alice.siteId)).toBe(true);
    // Unchanged, and pending: pushed once more, which the server answers without writing.
    expect(moved.find((d) => d.externalId === a[0].externalId)).toEqual(a[0]);
    expect(await firstValueFrom(pendingCount$(siteA))).toBe(3);
    // The marks move, but not the refusal caused by the other site's token.
    const marks = await siteA.syncmarks.find().exec();
    expect(marks.map((m) => [m.externalId, m.state, m.code ?? null]).sort()).toEqual(
      [
        [a[1].externalId, 'rejected', 'invalid_record'],
        [a[2].externalId, 'superseded', null],
      ].sort(),
    );
    expect(await names()).toContain(recordsIndexedDbName(LEGACY_DATABASE_NAME));

    const siteB = await open(bob.siteId);
    expect((await siteB.dispenses.find().exec()).map((d) => d.externalId).sort()).toEqual(b.map((d) => d.externalId).sort());
    expect(await siteA.dispenses.count().exec()).toBe(3); // nothing of Bob's site in Alice's
    // Nothing left in the old database: it is gone.
    expect((await names()).filter((n) => n?.includes(`-${LEGACY_DATABASE_NAME}--`))).toEqual([]);
  });

  test('a move cut short is finished at the next open: nothing twice, a newer local edit kept', async () => {
    const { a } = await legacyDatabase();
    // As after a crash between the copy and the removal: the record is in both databases, and
    // was edited in the new one since.
    const siteA = await openDispenseDatabase(siteDatabaseName(alice.siteId), opts);
    await siteA.dispenses.bulkInsert([a[0]]);
    const edited = await editDispense(siteA, a[0].externalId, { quantity: 7 }, 'Corrected at the counter');
    await siteA.close();

    const reopened = await open(alice.siteId);
    expect(await reopened.dispenses.count().exec()).toBe(3);
    expect((await reopened.dispenses.findOne(a[0].externalId).exec())!.toJSON()).toEqual(edited);
  });

  test('without an old database, nothing is made and nothing moves', async () => {
    await open(alice.siteId);
    expect((await names()).some((n) => n?.includes(LEGACY_DATABASE_NAME))).toBe(false);
  });
});
