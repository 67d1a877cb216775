/**
 * The device's record index on RxDB (fake-indexeddb), no server: built from what IndexedDB holds
 * at its first use, then kept current by the change stream (the app's writes and a pull's); the
 * patient history and the duplicate check match ids and codes ignoring case and space.
 */
import '../support/local-storage';
import type { DispenseDatabase } from '../../client/data/db';
import { deviceIndexOf, deviceTotals, recordsOf } from '../../client/data/device-index';
import { checkDuplicates, localHistory } from '../../client/data/patient-history';
import { RecordIndex } from '../../client/data/record-index';
import { createDispense, createDispenses, editDispense, voidDispense } from '../../client/data/records';
import type { Dispense } from '../../schemas/dispense';
import { inputFor, newBrowser } from '../support/device';
import { eventually } from '../support/eventually';

const anna = { username: 'anna', siteId: 'site-a' };
const at = (h: number) => new Date(Date.parse('2026-12-01T08:00:00.000Z') + h * 3_600_000).toISOString();
const offline = () => Promise.resolve(null);
let db: DispenseDatabase;

beforeEach(async () => {
  db = await newBrowser().open();
});
afterEach(async () => {
  await db.remove();
});

/** Waits until `check` holds (the index takes in each change a moment after the write). */
const until = (check: () => boolean | Promise<boolean>, what: string) => eventually(check, { timeout: 10_000, what });

const ids = (ds: Dispense[]) => ds.map((d) => d.externalId);

test("records saved before the index's first use are read from IndexedDB: 'p-1001 ' finds P-1001 typed three ways, newest first", async () => {
  const made = await createDispenses(
    db,
    [
      inputFor(1, { patientId: 'P-1001', dispensedAt: at(1) }),
      inputFor(2, { patientId: 'p-1001', dispensedAt: at(3) }),
      inputFor(3, { patientId: '\u00a0P-1001 ', dispensedAt: at(2) }),
      inputFor(4, { patientId: 'P-10010', dispensedAt: at(4) }),
    ],
    anna,
  );
  expect(ids(await localHistory(db, 'p-1001 '))).toEqual(ids([made[1], made[2], made[0]]));
  expect(await localHistory(db, 'p-1001 ', 1)).toEqual([made[1]]);
});

test('after P-1001 got AMOX500, p-1001 with amox500 is a possible duplicate, checked offline against this device', async () => {
  const first = await createDispense(db, inputFor(1, { patientId: 'P-1001', medicationCode: 'AMOX500', dispensedAt: at(0) }), anna);
  const check = await checkDuplicates(db, { patientId: 'p-1001 ', medicationCode: 'amox500', dispensedAt: at(2) }, offline, 24);
  expect(check).toEqual({ duplicates: [first], hours: 24, offline: true });
  const other = await checkDuplicates(db, { patientId: 'p-1001', medicationCode: 'met500', dispensedAt: at(2) }, offline, 24);
  expect(other.duplicates).toEqual([]);
});

test('once built, the index takes in new records, an edit of the patient id and a void, without reading IndexedDB again', async () => {
  const { index } = await deviceIndexOf(db);
  expect(index.size).toBe(0);
  const a = await createDispense(db, inputFor(1, { patientId: 'P-2001', dispensedAt: at(1) }), anna);
  const b = await createDispense(db, inputFor(2, { patientId: 'P-2001', dispensedAt: at(2) }), anna);
  await until(() => index.patientHistory('p-2001', 10).length === 2, 'both new records');
  expect(ids(await localHistory(db, 'P-2001'))).toEqual(ids([b, a]));

  await editDispense(db, b.externalId, { patientId: 'P-2002' }, 'Corrected at the counter');
  await until(() => index.patientHistory('p-2001', 10).length === 1, 'the edit');
  expect(ids(await localHistory(db, 'p-2002'))).toEqual([b.externalId]);

  expect((await recordsOf(db, [a.externalId]))[0].status).toBe('dispensed'); // read, and kept in memory
  await voidDispense(db, a.externalId, 'Wrong patient');
  await until(() => index.search({ hideVoided: true }, 10).total === 1, 'the void');
  expect((await recordsOf(db, [a.externalId]))[0]).toMatchObject({ status: 'voided', voidReason: 'Wrong patient' }); // not the kept version
  expect((await deviceIndexOf(db)).index).toBe(index); // one index per database
});

test("a version written to the collection by another path than this app's writes (as a pull writes the server's) reaches the index", async () => {
  const { index } = await deviceIndexOf(db);
  const made = await createDispense(db, inputFor(1, { patientId: 'PULL-1' }), anna);
  // The site's other device changed the patient id; the pull stores the server's version as it is.
  const pulled: Dispense = { ...made, patientId: ' pull-2', updatedAt: new Date(Date.parse(made.updatedAt) + 1000).toISOString() };
  await db.dispenses.bulkUpsert([pulled]);
  await until(() => index.patientHistory('PULL-2', 10).length === 1, 'the pulled version');
  expect(index.patientHistory('PULL-1', 10)).toEqual([]);
  expect(await localHistory(db, 'Pull-2')).toEqual([pulled]);
});

test("after many writes the kept index answers as one built afresh from RxDB's own query of the collection", async () => {
  const { index } = await deviceIndexOf(db);
  const made = await createDispenses(
    db,
    Array.from({ length: 60 }, (_, i) => inputFor(i, { patientId: `P-${i % 7}`, dispensedAt: at(i % 11), prescriptionRef: `RX-${i % 5}` })),
    anna,
  );
  for (const d of made.slice(0, 10))
    await editDispense(
      db,
      d.externalId,
      { patientId: `p-${(Number(d.patientId.slice(2)) + 1) % 7} `, dispensedAt: at(20) },
      'Corrected at the counter',
    );
  for (const d of made.slice(10, 15)) await voidDispense(db, d.externalId, 'Entered twice');
  const fresh = new RecordIndex();
  fresh.put((await db.dispenses.find().exec()).map((d) => d.toJSON() as Dispense));
  await until(
    () =>
      index.size === 60 &&
      index.search({ hideVoided: true }, 100).total === 55 &&
      index.patientHistory('p-1', 100).length === fresh.patientHistory('p-1', 100).length,
    'every write',
  );
  for (const filter of [{}, { patient: 'p-3' }, { prescription: 'rx-2', hideVoided: true }, { from: at(3), to: at(9) }]) {
    expect(index.search(filter, 100)).toEqual(fresh.search(filter, 100));
  }
  for (let p = 0; p < 7; p++) expect(index.patientHistory(`P-${p}`, 100)).toEqual(fresh.patientHistory(`P-${p}`, 100));
});

test("the device's totals of a period name each medication by its newest record", async () => {
  await createDispenses(
    db,
    [
      inputFor(1, { medicationCode: 'AMOX500', medicationName: 'Amoxicillin 500 mg', unit: 'capsule', quantity: 21, dispensedAt: at(1) }),
      inputFor(2, { medicationCode: 'amox500 ', medicationName: 'Amoxicillin 500mg caps', unit: 'capsule', quantity: 14, dispensedAt: at(2) }),
      inputFor(3, { medicationCode: 'AMOX500', medicationName: 'Amoxicillin 500 mg', unit: 'capsule', quantity: 7, dispensedAt: at(5) }),
    ],
    anna,
  );
  const { index } = await deviceIndexOf(db);
  expect(await deviceTotals(db, index, at(0), at(5))).toEqual([
    { medicationCode: 'amox500 ', medicationName: 'Amoxicillin 500mg caps', unit: 'capsule', dispensed: 2, quantity: 35, voided: 0 },
  ]);
});
