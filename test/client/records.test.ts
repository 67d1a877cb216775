/** Local records on RxDB (fake-indexeddb): validation, edits, voids, what is pending. No server. */
import '../support/local-storage';
import { firstValueFrom, filter } from 'rxjs';
import { ZodError } from 'zod';
import type { DispenseDatabase } from '../../client/data/db';
import { createDispense, createDispenses, editDispense, nextUpdatedAt, recentDispenses$, voidDispense } from '../../client/data/records';
import { CLOCK_AHEAD_LIMIT_MS } from '../../schemas/devices';
import { getChangedDocumentsSince } from 'rxdb';
import { countAfter, firstAfter, idsAfter, idsUpTo } from '../../client/data/rxdb';
import { publishCheckpoint } from '../../client/sync/checkpoint';
import { markRejected, updateMarks } from '../../client/data/marks';
import { countBeforeOpen, pendingCount$ } from '../../client/sync/pending';
import { recordSyncStatesOf$ } from '../../client/sync/record-states';
import { IDBKeyRange as FakeKeyRange } from 'fake-indexeddb';
import { inputFor, newBrowser } from '../support/device';

const alice = { username: 'alice', siteId: 'site-a' };
let db: DispenseDatabase;

beforeEach(async () => {
  db = await newBrowser().open();
});
afterEach(async () => {
  await db.remove();
});

test('a new record gets its id, site, dispenser, status and time from the app and is pending', async () => {
  const made = await createDispense(db, inputFor(1, { patientName: undefined }), alice);
  expect(made).toMatchObject({ siteId: 'site-a', dispensedBy: 'alice', status: 'dispensed' });
  expect(made.externalId).toMatch(/^[0-9a-f-]{36}$/);
  expect('patientName' in made).toBe(false);
  expect((await db.dispenses.findOne(made.externalId).exec())!.toJSON()).toMatchObject(made);
  const states = await firstValueFrom(recordSyncStatesOf$(db, [made.externalId]).pipe(filter((m) => m.size > 0)));
  expect(await firstValueFrom(pendingCount$(db))).toBe(1);
  expect(states).toEqual(new Map([[made.externalId, { state: 'pending' }]]));
});

test('a bad input throws the ZodError with an issue per field and saves nothing', async () => {
  const err = await createDispense(db, inputFor(1, { quantity: 0, medicationName: ' ' }), alice).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ZodError);
  expect((err as ZodError).issues.map((i) => i.path[0]).sort()).toEqual(['medicationName', 'quantity']);
  expect(await db.dispenses.count().exec()).toBe(0);
  expect(await db.syncmarks.count().exec()).toBe(0);
});

test('an edit changes the given fields, clears a field given as undefined, and always moves updatedAt on', async () => {
  const made = await createDispense(db, inputFor(1, { notes: 'first' }), alice);
  const a = await editDispense(db, made.externalId, { quantity: 30, notes: undefined }, 'Corrected at the counter');
  const b = await editDispense(db, made.externalId, { quantity: 31 }, 'Corrected at the counter');
  expect(a).toMatchObject({ quantity: 30, patientId: made.patientId, siteId: 'site-a' });
  expect('notes' in a).toBe(false);
  expect(a.updatedAt > made.updatedAt && b.updatedAt > a.updatedAt).toBe(true);
  // Who, where and the status are not edited here.
  const c = await editDispense(db, made.externalId, { dispensedBy: 'mallory', status: 'voided' } as never, 'Corrected at the counter');
  expect(c).toMatchObject({ dispensedBy: 'alice', status: 'dispensed' });
});

test('a void needs a reason, keeps the record, and a voided record cannot be changed again', async () => {
  const made = await createDispense(db, inputFor(1), alice);
  await expect(voidDispense(db, made.externalId, '  ')).rejects.toBeInstanceOf(ZodError);
  const voided = await voidDispense(db, made.externalId, 'Wrong patient');
  expect(voided).toMatchObject({ status: 'voided', voidReason: 'Wrong patient' });
  await expect(editDispense(db, made.externalId, { quantity: 1 }, 'Corrected at the counter')).rejects.toThrow('A voided record cannot be changed');
  expect(await db.dispenses.count().exec()).toBe(1);
});

test('a voided record whose voided version the server refused can be corrected, and stays voided; one refused before its void cannot', async () => {
  const made = await createDispense(db, inputFor(1, { quantity: 21 }), alice);
  const voided = await voidDispense(db, made.externalId, 'Wrong patient');
  // The server refused the version the record holds (what push.ts writes for a refusal).
  await updateMarks(db.syncmarks, [made.externalId], (m) =>
    markRejected(m, made.externalId, voided.updatedAt, 'clock_ahead', 'dispensedAt is ahead', new Date().toISOString()),
  );
  const corrected = await editDispense(db, made.externalId, { quantity: 20 }, 'Corrected at the counter');
  expect(corrected).toMatchObject({ quantity: 20, status: 'voided', voidReason: 'Wrong patient' });
  expect(corrected.updatedAt > voided.updatedAt).toBe(true);
  // Corrected, the record is no longer the refused version: a voided record is final again.
  await expect(editDispense(db, made.externalId, { quantity: 19 }, 'Corrected at the counter')).rejects.toThrow('A voided record cannot be changed');

  const other = await createDispense(db, inputFor(2), alice);
  await updateMarks(db.syncmarks, [other.externalId], (m) =>
    markRejected(m, other.externalId, other.updatedAt, 'clock_ahead', 'dispensedAt is ahead', new Date().toISOString()),
  );
  await voidDispense(db, other.externalId, 'Duplicate');
  await expect(editDispense(db, other.externalId, { quantity: 19 }, 'Corrected at the counter')).rejects.toThrow('A voided record cannot be changed');
});

test('the recent list is newest first by dispense time and limited', async () => {
  const at = (h: number) => new Date(Date.UTC(2026, 10, 25, h)).toISOString();
  for (const h of [9, 11, 10]) await createDispense(db, inputFor(h, { dispensedAt: at(h) }), alice);
  const list = await firstValueFrom(recentDispenses$(db, 2));
  expect(list.map((d) => d.dispensedAt)).toEqual([at(11), at(10)]);
});

test("the push order's reads (one request each) agree with RxDB's own walk of the changes", async () => {
  const first = await createDispenses(
    db,
    Array.from({ length: 30 }, (_, i) => inputFor(i)),
    alice,
  ); // one write: equal lwt, ordered by id
  const second = await createDispenses(
    db,
    Array.from({ length: 20 }, (_, i) => inputFor(100 + i)),
    alice,
  );
  await editDispense(db, first[3].externalId, { notes: 'edited last' }, 'Corrected at the counter');
  const storage = db.dispenses.storageInstance;
  expect(storage.getChangedDocumentsSince).toBeDefined(); // the one-request read of withIndexReads
  // RxDB's generic walk (a query on the same index), page by page, is the reference.
  const reference: { id: string; lwt: number }[] = [];
  const generic = { ...storage, getChangedDocumentsSince: undefined } as typeof storage;
  let at: { id: string; lwt: number } | undefined;
  for (;;) {
    const page = await getChangedDocumentsSince(generic, 7, at);
    reference.push(...page.documents.map((d) => ({ id: d.externalId, lwt: d._meta.lwt })));
    if (page.documents.length < 7) break;
    at = page.checkpoint as { id: string; lwt: number };
  }
  expect(reference).toHaveLength(50);
  expect(reference[49].id).toBe(first[3].externalId);
  // The second write's records come after the first's (ties of lwt within a write go by id).
  expect(new Set(reference.slice(29, 49).map((r) => r.id))).toEqual(new Set(second.map((d) => d.externalId)));
  const fast: string[] = [];
  at = undefined;
  for (;;) {
    const page = await storage.getChangedDocumentsSince!(7, at);
    fast.push(...page.documents.map((d) => d.externalId));
    if (page.documents.length < 7) break;
    at = page.checkpoint as { id: string; lwt: number };
  }
  expect(fast).toEqual(reference.map((r) => r.id));
  // Counts and ids after / up to every position, including ties of lwt.
  for (const k of [0, 6, 29, 30, 48, 49]) {
    const cp = reference[k];
    expect(await countAfter(db.dispenses, cp)).toBe(49 - k);
    expect(await idsAfter(db.dispenses, cp)).toEqual(reference.slice(k + 1).map((r) => r.id));
    expect(await idsUpTo(db.dispenses, cp)).toEqual(reference.slice(0, k + 1).map((r) => r.id));
    expect(await firstAfter(db.dispenses, cp)).toEqual(reference[k + 1] ?? null);
  }
  expect(await countAfter(db.dispenses, null)).toBe(50);
  expect(await idsUpTo(db.dispenses, null)).toEqual([]);
});

test('the pending count read before RxDB opens the database equals the live count, and RxDB opens it after', async () => {
  const browser = newBrowser();
  const first = await browser.open();
  await createDispenses(
    first,
    Array.from({ length: 30 }, (_, i) => inputFor(i)),
    alice,
  );
  const { documents } = await first.dispenses.storageInstance.getChangedDocumentsSince!(30);
  const cp = { id: documents[9].externalId, lwt: documents[9]._meta.lwt };
  const name = first.name;
  await first.close();
  publishCheckpoint(first, cp); // ten records answered by the server
  const global = globalThis as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
  const before = { indexedDB: global.indexedDB, IDBKeyRange: global.IDBKeyRange };
  Object.assign(global, { indexedDB: browser.indexedDB, IDBKeyRange: FakeKeyRange }); // the page's IndexedDB, as in a browser
  try {
    expect(await countBeforeOpen(`${name}-never-opened`)).toBeNull(); // a first start: nothing to count
    expect((await browser.indexedDB.databases()).some((d) => d.name?.includes(`${name}-never-opened`))).toBe(false);
    expect(await countBeforeOpen(name)).toBe(20);
    const reopened = await browser.open(); // RxDB opens it as before
    try {
      expect(await firstValueFrom(pendingCount$(reopened))).toBe(20);
      expect(await reopened.dispenses.count().exec()).toBe(30);
    } finally {
      await reopened.remove();
    }
  } finally {
    Object.assign(global, before);
  }
});

test('a version stamped by a fast clock is followed by one the server accepts: at most its limit ahead, still later than any version it holds', () => {
  const now = Date.parse('2026-12-07T10:00:00.000Z');
  const at = (ms: number) => new Date(now + ms).toISOString();
  expect(nextUpdatedAt(at(-5_000), now)).toBe(at(0)); // the usual case: now
  expect(nextUpdatedAt(at(2_000), now)).toBe(at(2_001)); // a little ahead: just after it
  expect(nextUpdatedAt(at(86_400_000), now)).toBe(at(CLOCK_AHEAD_LIMIT_MS)); // a day ahead (refused): at the limit
  expect(nextUpdatedAt(undefined, now)).toBe(at(0));
});
