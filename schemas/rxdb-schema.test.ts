import { createRxSchema, defaultHashSha256 } from 'rxdb';
import { checkSchema } from 'rxdb/plugins/dev-mode';
import { getValidator } from 'rxdb/plugins/validate-ajv';
import { DISPENSE_FIELDS, dispenseObjectSchema, type Dispense } from './dispense';
import { dispenseRxJsonSchema } from './rxdb-schema';

const schema = dispenseRxJsonSchema();

const record: Dispense = {
  externalId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
  siteId: 'site-a',
  patientId: 'P100001',
  medicationCode: 'AMOX500',
  medicationName: 'Amoxicillin 500 mg capsules',
  quantity: 21,
  unit: 'capsule',
  expiryDate: '2028-06-30',
  dispensedAt: '2026-11-25T09:30:00.000Z',
  dispensedBy: 'alice',
  status: 'dispensed',
  updatedAt: '2026-11-25T09:30:00.000Z',
};

describe('the RxDB schema derived from the zod record', () => {
  test('its primary key is externalId, a required string with a maxLength', () => {
    expect(schema.primaryKey).toBe('externalId');
    expect(schema.required).toContain('externalId');
    expect(schema.properties.externalId).toMatchObject({ type: 'string', maxLength: 36 });
  });

  test('every field of the zod record is a property, and nothing else is', () => {
    expect(Object.keys(schema.properties)).toEqual(DISPENSE_FIELDS);
    expect(schema.additionalProperties).toBe(false);
  });

  test('the required list is exactly the fields zod does not mark optional', () => {
    const requiredInZod = Object.entries(dispenseObjectSchema.shape)
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([name]) => name);
    expect(schema.required).toEqual(requiredInZod);
    expect(schema.required).not.toContain('notes');
    expect(schema.required).not.toContain('voidReason');
  });

  test('every index is on required fields, and every indexed string has a maxLength (Dexie needs both)', () => {
    expect(schema.indexes.length).toBeGreaterThan(0);
    for (const field of schema.indexes.flat()) {
      expect(schema.required).toContain(field);
      const prop = schema.properties[field];
      if (prop.type === 'string') expect(prop.maxLength).toEqual(expect.any(Number));
      else expect(prop).toEqual(expect.objectContaining({ minimum: expect.any(Number), maximum: expect.any(Number) }));
    }
    expect(schema.indexes).toEqual(expect.arrayContaining([['dispensedAt'], ['updatedAt']]));
  });

  test('the field rules carry over: lengths, the quantity range and the enums', () => {
    expect(schema.properties.patientId).toMatchObject({ type: 'string', maxLength: 64 });
    expect(schema.properties.notes).toMatchObject({ type: 'string', maxLength: 1000 });
    expect(schema.properties.quantity).toMatchObject({ type: 'number', exclusiveMinimum: 0, maximum: 100000 });
    expect(schema.properties.status).toMatchObject({ enum: ['dispensed', 'voided'] });
    expect(schema.properties.unit.enum).toEqual(expect.arrayContaining(['tablet', 'capsule', 'ml', 'g', 'unit']));
  });

  test("RxDB's dev-mode schema check accepts it", () => {
    expect(() => checkSchema(structuredClone(schema) as never)).not.toThrow();
    expect(() => createRxSchema(structuredClone(schema) as never, defaultHashSha256)).not.toThrow();
  });

  test("RxDB's ajv validator accepts a valid record and refuses one with a broken rule or an unknown key", () => {
    const validate = getValidator(schema as never);
    expect(validate(record)).toEqual([]);
    expect(validate({ ...record, quantity: 0 })).not.toEqual([]);
    expect(validate({ ...record, patientId: 'x'.repeat(65) })).not.toEqual([]);
    expect(validate({ ...record, updatedAt: '2026-11-25T09:30:00Z' })).not.toEqual([]);
    expect(validate({ ...record, price: 1 })).not.toEqual([]);
  });
});
