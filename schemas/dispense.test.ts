import { z } from 'zod';
import { changedFields, dispenseSchema, sameDispense, type Dispense } from './dispense';

const valid: Dispense = {
  externalId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
  siteId: 'site-a',
  patientId: 'P100001',
  patientName: 'Ada Lovelace',
  medicationCode: 'AMOX500',
  medicationName: 'Amoxicillin 500 mg capsules',
  quantity: 21,
  unit: 'capsule',
  batchNumber: 'B12',
  expiryDate: '2028-06-30',
  prescriber: 'Dr Who',
  prescriptionRef: 'RX-1',
  dispensedAt: '2026-11-25T09:30:00.000Z',
  dispensedBy: 'alice',
  status: 'dispensed',
  notes: 'Take with food',
  updatedAt: '2026-11-25T09:30:00.000Z',
};

// Every rule is checked on the schema as written and on its ahead-of-time compiled form (zod's
// z.compile, which the server's push parses with): both must answer alike. `strict` makes a schema
// the compiler cannot model fail here rather than silently fall back to the slower parser.
const SCHEMAS = [
  ['as written', dispenseSchema],
  ['compiled with z.compile', z.compile(dispenseSchema, { strict: true })],
] as const;

test('an invalid record gets the same issues, in the same words, from both forms', () => {
  const bad = { ...valid, externalId: 'X', quantity: -1, notes: 'a\u0000', expiryDate: '2026-11-24', status: 'voided', extra: 1 };
  expect(SCHEMAS[1][1].safeParse(bad).error!.issues).toEqual(dispenseSchema.safeParse(bad).error!.issues);
});

describe.each(SCHEMAS)('dispense record schema, %s', (_form, schema) => {
  /** The fields zod reports issues at for `doc`, each once, e.g. ['quantity']; [] when it parses. */
  function failures(doc: Record<string, unknown>): string[] {
    const r = schema.safeParse(doc);
    return r.success ? [] : [...new Set(r.error.issues.map((i) => i.path.join('.')))];
  }

  test('a complete valid record parses to exactly what was sent', () => {
    expect(schema.parse(valid)).toEqual(valid);
  });

  test('a record with only the required fields parses', () => {
    const { patientName, batchNumber, expiryDate, prescriber, prescriptionRef, notes, ...required } = valid;
    expect(failures(required)).toEqual([]);
  });

  test.each([
    'externalId',
    'siteId',
    'patientId',
    'medicationCode',
    'medicationName',
    'quantity',
    'unit',
    'dispensedAt',
    'dispensedBy',
    'status',
    'updatedAt',
  ])('when the required field %s is missing, the record is invalid at that field', (field) => {
    const doc: Record<string, unknown> = { ...valid };
    delete doc[field];
    expect(failures(doc)).toEqual([field]);
  });

  test.each([
    ['siteId', 64],
    ['patientId', 64],
    ['patientName', 200],
    ['medicationCode', 64],
    ['medicationName', 200],
    ['batchNumber', 64],
    ['prescriber', 200],
    ['prescriptionRef', 64],
    ['dispensedBy', 64],
    ['notes', 1000],
  ])('%s of up to %i characters is valid, one more is invalid', (field, max) => {
    expect(failures({ ...valid, [field]: 'x'.repeat(max) })).toEqual([]);
    expect(failures({ ...valid, [field]: 'x'.repeat(max + 1) })).toEqual([field]);
  });

  test('a voidReason of 500 characters is valid on a voided record, 501 is invalid', () => {
    const voided = { ...valid, status: 'voided', voidReason: 'r'.repeat(500) };
    expect(failures(voided)).toEqual([]);
    expect(failures({ ...voided, voidReason: 'r'.repeat(501) })).toEqual(['voidReason']);
  });

  test.each(['siteId', 'patientId', 'medicationCode', 'medicationName', 'dispensedBy', 'patientName', 'notes'])(
    'when %s is empty or blank, the record is invalid',
    (field) => {
      expect(failures({ ...valid, [field]: '' })).toEqual([field]);
      expect(failures({ ...valid, [field]: '   ' })).toEqual([field]);
    },
  );

  test('text is not trimmed, so a re-pushed record compares equal to what was stored', () => {
    expect(schema.parse({ ...valid, patientName: ' Ada ' }).patientName).toBe(' Ada ');
  });

  test.each([
    ['a NUL character', 'Ada\u0000Lovelace'],
    ['a lone high surrogate', 'Ada \ud83d'],
    ['a lone low surrogate', '\ude00 Ada'],
  ])('text with %s is invalid (PostgreSQL cannot store it)', (_what, text) => {
    expect(failures({ ...valid, patientName: text })).toEqual(['patientName']);
    expect(failures({ ...valid, notes: text })).toEqual(['notes']);
  });

  test('text with a paired surrogate (an emoji) is valid', () => {
    expect(failures({ ...valid, notes: 'Patient happy 😀' })).toEqual([]);
  });

  test.each([
    [0.5, true],
    [100000, true],
    [0, false],
    [-1, false],
    [100000.01, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
    ['21', false],
  ])('quantity %p is valid: %p', (quantity, ok) => {
    expect(failures({ ...valid, quantity })).toEqual(ok ? [] : ['quantity']);
  });

  test.each(['tablet', 'capsule', 'ml', 'g', 'unit'])('unit %s is valid', (unit) => {
    expect(failures({ ...valid, unit })).toEqual([]);
  });

  test('an unknown unit is invalid', () => {
    expect(failures({ ...valid, unit: 'bucket' })).toEqual(['unit']);
  });

  test('an expiry date on the dispense date is valid', () => {
    expect(failures({ ...valid, expiryDate: '2026-11-25' })).toEqual([]);
  });

  test('an expiry date before the dispense date is invalid: the stock had expired', () => {
    const r = schema.safeParse({ ...valid, expiryDate: '2026-11-24' });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['expiryDate'], message: expect.stringMatching(/expired/) })]);
  });

  test.each(['2027-02-30', '2027-13-01', '27-03-31', '2027-03-31T00:00:00.000Z', '0000-03-31'])(
    'expiry date %s is not a date and is invalid',
    (expiryDate) => {
      expect(failures({ ...valid, expiryDate })).toEqual(['expiryDate']);
    },
  );

  test('a voided record without voidReason is invalid', () => {
    expect(failures({ ...valid, status: 'voided' })).toEqual(['voidReason']);
  });

  test('a voided record with voidReason is valid', () => {
    expect(failures({ ...valid, status: 'voided', voidReason: 'Wrong patient' })).toEqual([]);
  });

  test('a dispensed record with a voidReason is invalid', () => {
    expect(failures({ ...valid, voidReason: 'Wrong patient' })).toEqual(['voidReason']);
  });

  test('an unknown status is invalid', () => {
    expect(failures({ ...valid, status: 'deleted' })).toEqual(['status']);
  });

  test('an unknown key is rejected, not stripped', () => {
    const r = schema.safeParse({ ...valid, price: 12 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['price'] });
  });

  test.each(['not-a-uuid', '6f1c2a4e8b3d4c5e9f701a2b3c4d5e6f', '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f0', '6F1C2A4E-8B3D-4C5E-9F70-1A2B3C4D5E6F'])(
    'externalId %s is not a lower-case UUID and is invalid',
    (externalId) => {
      expect(failures({ ...valid, externalId })).toEqual(['externalId']);
    },
  );

  test.each([
    '2026-11-25T09:30:00Z', // no milliseconds: not canonical, so string equality would fail
    '2026-11-25T09:30:00.000000Z',
    '2026-11-25T09:30:00.000+01:00',
    '2026-11-25 09:30:00.000Z',
    '2026-11-25',
    '2026-02-30T09:30:00.000Z',
    '2026-11-25T24:00:00.000Z',
    '0000-06-01T09:30:00.000Z', // valid ISO, but no such year in PostgreSQL
  ])('dispensedAt and updatedAt %s are not canonical ISO instants and are invalid', (at) => {
    expect(failures({ ...valid, dispensedAt: at })).toContain('dispensedAt');
    expect(failures({ ...valid, updatedAt: at })).toEqual(['updatedAt']);
  });

  test('the canonical form Date.prototype.toISOString gives is valid', () => {
    const at = new Date().toISOString();
    expect(failures({ ...valid, dispensedAt: at, updatedAt: at, expiryDate: undefined })).toEqual([]);
  });
});

describe('comparing two versions of a record', () => {
  test('an absent optional field equals an undefined one', () => {
    const { notes: _n, ...withoutNotes } = valid;
    expect(sameDispense({ ...withoutNotes }, { ...withoutNotes, notes: undefined })).toBe(true);
  });

  test('a change of one field is seen and named', () => {
    const after = { ...valid, quantity: 28, updatedAt: '2026-11-25T10:00:00.000Z' };
    expect(sameDispense(valid, after)).toBe(false);
    expect(changedFields(valid, after)).toEqual(['quantity', 'updatedAt']);
  });

  test('removing an optional field counts as a change of that field', () => {
    const { notes: _n, ...after } = valid;
    expect(changedFields(valid, after)).toEqual(['notes']);
  });
});
