import type { Dispense } from '../../schemas/dispense';
import { makeDispense } from '../../test/support/records';
import { queryWords, RecordIndex } from './record-index';

const at = (h: number) => new Date(Date.parse('2026-12-01T00:00:00.000Z') + h * 3_600_000).toISOString();
const record = (h: number, over: Partial<Dispense> = {}): Dispense => ({
  ...makeDispense({ siteId: 's', dispensedBy: 'anna' }),
  dispensedAt: at(h),
  ...over,
});

describe('a patient history', () => {
  const index = new RecordIndex();
  const mine = [record(1, { patientId: 'P-1001' }), record(3, { patientId: 'p-1001 ' }), record(2, { patientId: '\u00a0P-1001\t' })];
  index.put([...mine, record(4, { patientId: 'P-10010' }), record(5, { patientId: 'P 1001' })]);

  test('matches the id in any case and with any surrounding space, newest first, up to the limit', () => {
    expect(index.patientHistory(' p-1001', 10)).toEqual([mine[1], mine[2], mine[0]].map((d) => d.externalId));
    expect(index.patientHistory('P-1001', 2)).toEqual([mine[1], mine[2]].map((d) => d.externalId));
  });

  test('an id that only starts alike, or with a space inside, is another patient', () => {
    expect(index.patientHistory('p-1001', 10)).toHaveLength(3);
    expect(index.patientHistory('P-100', 10)).toEqual([]);
  });
});

describe('a search', () => {
  const index = new RecordIndex();
  const noor = record(1, {
    patientId: 'P-2001',
    patientName: 'Noor Haddad',
    medicationCode: 'AMOX500',
    medicationName: 'Amoxicillin 500 mg capsules',
  });
  const voided = record(2, {
    patientId: 'P-2001',
    patientName: 'Noor Haddad',
    medicationCode: 'MET500',
    medicationName: 'Metformin 500 mg tablets',
    status: 'voided',
    voidReason: 'Wrong patient',
    prescriptionRef: 'RX-77/a',
  });
  const tomas = record(3, {
    patientId: 'P-3001',
    patientName: 'Tomas Lind',
    medicationCode: 'PARA500',
    medicationName: 'Paracetamol 500 mg tablets',
    prescriptionRef: 'rx-78',
  });
  const anon = record(4, {
    patientId: 'P-4001',
    patientName: undefined,
    medicationCode: 'amox500',
    medicationName: 'Amoxil',
    prescriptionRef: undefined,
  });
  index.put([noor, voided, tomas, anon]);
  const ids = (...ds: Dispense[]) => ds.map((d) => d.externalId);

  test.each<[string, Parameters<RecordIndex['search']>[0], Dispense[]]>([
    ['nothing asked: every record, newest first', {}, [anon, tomas, voided, noor]],
    ['a lower-case patient id', { patient: 'p-2001' }, [voided, noor]],
    ['part of an id', { patient: '001' }, [anon, tomas, voided, noor]],
    ['words of a name, in any order and case', { patient: ' haddad  NOOR ' }, [voided, noor]],
    ['a word of the id and one of the name together', { patient: 'p-3001 lind' }, [tomas]],
    ['a medication code in another case', { medication: 'AMOX' }, [anon, noor]],
    ['a word of a medication name', { medication: 'tablets' }, [tomas, voided]],
    ['a prescription reference in another case', { prescription: 'RX-7' }, [tomas, voided]],
    ['voided hidden', { patient: 'noor', hideVoided: true }, [noor]],
    ['a period: from included, to excluded', { from: at(2), to: at(4) }, [tomas, voided]],
    ['a period and a medication', { from: at(1), to: at(5), medication: 'amox' }, [anon, noor]],
    ['a word nowhere', { patient: 'noor', medication: 'paracetamol' }, []],
  ])('%s', (_what, filter, expected) => {
    expect(index.search(filter, 10)).toEqual({ total: expected.length, ids: ids(...expected) });
  });

  test('the total counts every match, the ids stop at the limit', () => {
    expect(index.search({}, 2)).toEqual({ total: 4, ids: ids(anon, tomas) });
  });
});

test('typed letter by letter, deleted and changed, every search answers as the same search on a fresh index', () => {
  const records = Array.from({ length: 200 }, (_, i) =>
    record(i % 50, {
      patientId: `P-${i % 37}`,
      patientName: i % 3 ? `Name ${i % 11} Family${i % 7}` : undefined,
      medicationCode: `MED${i % 13}`,
      prescriptionRef: i % 4 ? `RX-${i % 9}` : undefined,
      ...(i % 10 === 0 ? { status: 'voided' as const, voidReason: 'x' } : {}),
    }),
  );
  const index = new RecordIndex();
  index.put(records);
  const steps: Parameters<RecordIndex['search']>[0][] = [];
  for (const typed of ['p', 'p-', 'p-1', 'p-1 ', 'p-1 f', 'p-1 fam', 'p-1 family3', 'p-1 fam', 'n', 'na', 'name 1']) steps.push({ patient: typed });
  steps.push({ patient: 'name 1', hideVoided: true }, { patient: 'name 1', hideVoided: false }, { patient: 'name 1', medication: 'med1' });
  steps.push({ patient: 'name 1', medication: 'med12' }, { patient: 'name 1', medication: 'med12', from: at(10), to: at(30) });
  steps.push({ patient: 'name 1', medication: 'med12', from: at(10), to: at(30), prescription: 'rx' }, { prescription: 'rx-8' }, {});
  for (const filter of steps) {
    const fresh = new RecordIndex();
    fresh.put(records);
    expect([filter, index.search(filter, 500)]).toEqual([filter, fresh.search(filter, 500)]);
  }
  // A change between two searches: the next one looks at every record again.
  const added = record(60, { patientId: 'P-1', patientName: 'Name 1 Family3' });
  index.search({ patient: 'family3' }, 500);
  index.put([added]);
  expect(index.search({ patient: 'family3 n' }, 500).ids[0]).toBe(added.externalId);
});

test('the index follows edits, voids and removals: a changed dispense time moves the record, a changed id leaves the old patient', () => {
  const index = new RecordIndex();
  const a = record(1, { patientId: 'P-1' });
  const b = record(2, { patientId: 'P-1' });
  index.put([a, b]);
  expect(index.patientHistory('p-1', 10)).toEqual([b.externalId, a.externalId]);
  index.put([{ ...a, dispensedAt: at(3) }]);
  expect(index.patientHistory('p-1', 10)).toEqual([a.externalId, b.externalId]);
  index.put([{ ...b, patientId: 'P-2' }]);
  expect(index.patientHistory('p-1', 10)).toEqual([a.externalId]);
  index.put([{ ...a, dispensedAt: at(3), status: 'voided', voidReason: 'x' }]);
  expect(index.search({ hideVoided: true }, 10).ids).toEqual([b.externalId]);
  index.remove([a.externalId]);
  expect(index.size).toBe(1);
  expect(index.between(undefined, undefined).map((r) => r.id)).toEqual([b.externalId]);
});

test('records of one instant are in descending id order, as in the recent list', () => {
  const index = new RecordIndex();
  const same = [record(1), record(1), record(1)];
  index.put(same);
  expect(index.search({}, 10).ids).toEqual(
    same
      .map((d) => d.externalId)
      .sort()
      .reverse(),
  );
});

test('a query is cut into words, each trimmed and in lower case', () => {
  expect(queryWords('  Noor\tHADDAD ')).toEqual(['noor', 'haddad']);
  expect(queryWords('   ')).toEqual([]);
  expect(queryWords(undefined)).toEqual([]);
});
