/** Local records on RxDB (fake-indexeddb): validation, edits, voids, pending marks. No server. */
import './local-storage';
import { firstValueFrom, filter } from 'rxjs';
import { ZodError } from 'zod';
import type { DispenseDatabase } from '../../client/db';
import { createDispense, editDispense, recentDispenses$, recordSyncStates$, voidDispense } from '../../client/records';
import { markAcked, markLocalWrite, MARK_SETTLE_MS, reconcileMarks, updateMarks } from '../../client/sync/marks';
import { inputFor, newBrowser } from './support';

const alice = { username: 'alice', siteId: 'site-a' };
let db: DispenseDatabase;

beforeEach(async () => {
  db = await newBrowser().open();
});
afterEach(async () => {
  await db.remove();
});

const storedUpdatedAt = async (ids: string[]) =>
  new Map([...(await db.dispenses.findByIds(ids).exec())].map(([id, d]) => [id, d.updatedAt]));

test('a new record gets its id, site, dispenser, status and time from the app and is pending', async () => {
  const made = await createDispense(db, inputFor(1, { patientName: undefined }), alice);
  expect(made).toMatchObject({ siteId: 'site-a', dispensedBy: 'alice', status: 'dispensed' });
  expect(made.externalId).toMatch(/^[0-9a-f-]{36}$/);
  expect('patientName' in made).toBe(false);
  expect((await db.dispenses.findOne(made.externalId).exec())!.toJSON()).toMatchObject(made);
  const states = await firstValueFrom(recordSyncStates$(db).pipe(filter((m) => m.size > 0)));
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
  const a = await editDispense(db, made.externalId, { quantity: 30, notes: undefined });
  const b = await editDispense(db, made.externalId, { quantity: 31 });
  expect(a).toMatchObject({ quantity: 30, patientId: made.patientId, siteId: 'site-a' });
  expect('notes' in a).toBe(false);
  expect(a.updatedAt > made.updatedAt && b.updatedAt > a.updatedAt).toBe(true);
  // Who, where and the status are not edited here.
  const c = await editDispense(db, made.externalId, { dispensedBy: 'mallory', status: 'voided' } as never);
  expect(c).toMatchObject({ dispensedBy: 'alice', status: 'dispensed' });
});

test('a void needs a reason, keeps the record, and a voided record cannot be changed again', async () => {
  const made = await createDispense(db, inputFor(1), alice);
  await expect(voidDispense(db, made.externalId, '  ')).rejects.toBeInstanceOf(ZodError);
  const voided = await voidDispense(db, made.externalId, 'Wrong patient');
  expect(voided).toMatchObject({ status: 'voided', voidReason: 'Wrong patient' });
  await expect(editDispense(db, made.externalId, { quantity: 1 })).rejects.toThrow('A voided record cannot be changed');
  expect(await db.dispenses.count().exec()).toBe(1);
});

test('the recent list is newest first by dispense time and limited', async () => {
  const at = (h: number) => new Date(Date.UTC(2026, 10, 25, h)).toISOString();
  for (const h of [9, 11, 10]) await createDispense(db, inputFor(h, { dispensedAt: at(h) }), alice);
  const list = await firstValueFrom(recentDispenses$(db, 2));
  expect(list.map((d) => d.dispensedAt)).toEqual([at(11), at(10)]);
});

test('a pending mark left ahead of its record by a crash is put right after a minute, and not before', async () => {
  const made = await createDispense(db, inputFor(1), alice);
  await updateMarks(db.syncmarks, [made.externalId], (m) => markAcked(m!, made.updatedAt, new Date().toISOString()));
  // The mark of an edit was written, then the tab died before the record was.
  const crashedAt = Date.now();
  await updateMarks(db.syncmarks, [made.externalId], (m) => markLocalWrite(m, new Date(crashedAt).toISOString(), new Date(crashedAt).toISOString()));
  expect(await reconcileMarks(db.syncmarks, storedUpdatedAt, crashedAt + 1000)).toBe(0);
  expect((await db.syncmarks.findOne(made.externalId).exec())!.state).toBe('pending');
  expect(await reconcileMarks(db.syncmarks, storedUpdatedAt, crashedAt + MARK_SETTLE_MS + 1)).toBe(1);
  expect((await db.syncmarks.findOne(made.externalId).exec())!.state).toBe('synced');
});
