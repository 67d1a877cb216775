/**
 * A new device's first pull without reads that find nothing (client/data/rxdb/fresh-writes.ts)
 * held against RxDB's own path: a device whose records store held something when it opened takes
 * RxDB's reads and the Dexie storage's own writes; both must store the same records, the same
 * replication meta and emit the same change events. And an id that exists after all still meets a 409.
 */
import '../support/local-storage';
import type { RxDocumentData } from 'rxdb';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispenses } from '../../client/data/records';
import { startSync, type SyncController } from '../../client/sync';
import { countAfter } from '../../client/data/rxdb';
import { DOCS_STORE } from '../../client/data/rxdb/names';
import { storedCheckpoint } from '../../client/sync/checkpoint';
import type { Dispense } from '../../schemas/dispense';
import { login, push, pushBody } from '../support/api';
import { makeDispense } from '../support/records';
import { startTestServer, type TestServer } from '../support/server';
import { inputFor, newBrowser, waitForLeader } from '../support/device';

jest.setTimeout(180_000);

const SITE = 'site-fresh-writes';
const N = 1500;
let server: TestServer;
const opened: { db: DispenseDatabase; sync?: SyncController }[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.addUser('fay', SITE);
  const { token } = await login(server.url, 'fay');
  const now = Date.now();
  for (let from = 0; from < N; from += 1000) {
    const docs = Array.from({ length: Math.min(1000, N - from) }, (_, k) => {
      const at = new Date(now - (from + k) * 60_000).toISOString();
      return makeDispense({ siteId: SITE, dispensedBy: 'fay', dispensedAt: at, updatedAt: at }, from + k);
    });
    expect((await push(server.url, token, pushBody(docs))).status).toBe(200);
  }
});
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.sync?.stop();
    if (!o.db.closed) await o.db.remove();
  }
});
afterAll(async () => {
  await server?.stop();
});

/** The replication's meta documents of records (`<id>|0`), by record id, without their write time, read from IndexedDB. */
async function metaOf(indexedDB: IDBFactory): Promise<Map<string, unknown>> {
  const names = (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.includes('rx-replication-meta'));
  const out = new Map<string, unknown>();
  for (const name of names) {
    const conn = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const all = await new Promise<{ id: string; itemId: string; _meta: object; _rev: string }[]>((resolve, reject) => {
      const req = conn.transaction(DOCS_STORE, 'readonly').objectStore(DOCS_STORE).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    conn.close();
    for (const { _meta: _m, ...doc } of all) if (doc.id.endsWith('|0')) out.set(doc.itemId, { ...doc, _rev: doc._rev.split('-')[0] });
  }
  return out;
}

/** Stored records without the write time, by id. */
async function stored(db: DispenseDatabase) {
  const docs = (await db.dispenses.storageInstance.findDocumentsById(
    (await db.dispenses.find().exec()).map((d) => d.externalId),
    true,
  )) as RxDocumentData<Dispense>[];
  // A revision's height, not its hash (RxDB hashes a token of each database into it).
  return new Map(docs.map(({ _meta: { lwt: _lwt, ...meta }, ...doc }) => [doc.externalId, { ...doc, _rev: doc._rev.split('-')[0], _meta: meta }]));
}

async function pullingDevice(localFirst: boolean) {
  const { token } = await login(server.url, 'fay');
  const browser = newBrowser();
  let db = await browser.open();
  if (localFirst) {
    // A record made here before the first pull, and a page load: the store is not empty as it opens.
    await createDispenses(db, [inputFor(9999)], { username: 'fay', siteId: SITE });
    await db.close();
    db = await browser.open();
  }
  const inserts: string[] = [];
  const sub = db.dispenses.$.subscribe((e: { operation: string; documentId: string }) => {
    if (e.operation === 'INSERT') inserts.push(e.documentId);
  });
  const sync = startSync(db, { baseUrl: server.url, siteId: SITE, getToken: () => token, deviceId: `device-${localFirst}` });
  opened.push({ db, sync });
  await waitForLeader(sync);
  for (let i = 0; i < 20 && (await db.dispenses.count().exec()) < N + (localFirst ? 1 : 0); i++) await sync.syncNow();
  sub.unsubscribe();
  return { db, sync, inserts, indexedDB: browser.indexedDB };
}

test('a new device stores the pulled records and their change events exactly as RxDB does on a device that held a record', async () => {
  const fresh = await pullingDevice(false);
  const rxdb = await pullingDevice(true);
  const a = await stored(fresh.db);
  const b = await stored(rxdb.db);
  const local = [...b.keys()].find((id) => !a.has(id));
  b.delete(local!);
  expect(a.size).toBe(N);
  expect(a).toEqual(b);
  const metaA = await metaOf(fresh.indexedDB);
  const metaB = await metaOf(rxdb.indexedDB);
  metaB.delete(local!);
  expect(metaA.size).toBe(N);
  expect(metaA).toEqual(metaB);
  expect([...a.values()].every((d) => d._meta.semsPulled === 1)).toBe(true);
  expect(new Set(fresh.inserts)).toEqual(new Set(a.keys()));
  expect(new Set(rxdb.inserts.filter((id) => id !== local))).toEqual(new Set(b.keys()));
  // Pulled records are not pending.
  expect(await countAfter(fresh.db.dispenses, storedCheckpoint(fresh.db.name))).toBe(0);
});

test('when an id exists after all, the write without a read fails as a whole and RxDB answers 409, as its own write does', async () => {
  const browser = newBrowser();
  const db = await browser.open();
  opened.push({ db });
  const [made] = await createDispenses(db, [inputFor(1)], { username: 'fay', siteId: SITE });
  const doc = (await db.dispenses.storageInstance.findDocumentsById([made.externalId], true))[0];
  const other = { ...doc, externalId: 'a1111111-1111-4111-8111-111111111111' };
  const res = await db.dispenses.storageInstance.bulkWrite(
    [{ document: { ...other, _meta: { lwt: Date.now() } } }, { document: { ...doc, _meta: { lwt: Date.now() } } }],
    'test-clash',
  );
  expect(res.error.map((e) => [e.status, e.documentId])).toEqual([[409, made.externalId]]);
  // The other row was written by the Dexie storage's own write, once.
  expect((await db.dispenses.storageInstance.findDocumentsById([other.externalId], true)).length).toBe(1);
});
