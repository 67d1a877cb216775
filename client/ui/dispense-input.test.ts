import { daysBack, emptyValues, toInput, toLocalInput, validate, valuesOf, type FormValues } from './dispense-input';
import type { Dispense } from '../../schemas/dispense';

const filled = (over: Partial<FormValues> = {}): FormValues => ({
  ...emptyValues(new Date('2026-11-25T09:30:00.000Z')),
  patientId: ' P-1 ',
  medicationCode: 'AMOX500',
  medicationName: 'Amoxicillin 500 mg capsules',
  quantity: '21',
  unit: 'capsule',
  ...over,
});

describe('the dispense form values', () => {
  test('are trimmed into a record input, blank optional fields left out, quantity a number', () => {
    const values = filled({ patientName: '   ', notes: ' call back ' });
    const input = toInput(values, { local: values.dispensedAt, iso: null });
    expect(input).toMatchObject({ patientId: 'P-1', quantity: 21, unit: 'capsule', notes: 'call back' });
    expect(input.patientName).toBeUndefined();
    expect(validate(input)).toEqual({});
  });

  test('an untouched "Dispensed at" stands for the moment of saving; a typed one for its local time', () => {
    const values = filled();
    const before = Date.now();
    const now = toInput(values, { local: values.dispensedAt, iso: null }).dispensedAt;
    expect(Date.parse(now)).toBeGreaterThanOrEqual(before);
    const typed = toInput({ ...values, dispensedAt: '2026-11-24T08:15' }, { local: values.dispensedAt, iso: null });
    expect(typed.dispensedAt).toBe(new Date('2026-11-24T08:15').toISOString());
  });

  test('editing keeps the stored instant to the millisecond when the field is not changed', () => {
    const record = { dispensedAt: '2026-11-25T09:30:12.345Z' } as Dispense;
    const values = filled({ dispensedAt: toLocalInput(record.dispensedAt) });
    expect(toInput(values, { local: values.dispensedAt, iso: record.dispensedAt }).dispensedAt).toBe(record.dispensedAt);
  });

  test('the shared schema errors land on their fields, in counter words', () => {
    const values = filled({ patientId: '', quantity: '', unit: '', expiryDate: '2020-01-01' });
    const errors = validate(toInput(values, { local: values.dispensedAt, iso: null }));
    expect(errors).toEqual({
      patientId: 'Patient ID is required',
      quantity: 'Enter the quantity as a number',
      unit: 'Choose a unit',
      expiryDate: 'Expiry date is before the dispense date: this stock had expired',
    });
  });

  test('a stored record round-trips through the form values', () => {
    const record: Dispense = {
      externalId: '5b0f7f8e-2f6a-4d5e-9a41-0c1f8a3b9d20',
      siteId: 'S1',
      dispensedBy: 'u',
      status: 'dispensed',
      updatedAt: '2026-11-25T09:31:00.000Z',
      patientId: 'P-9',
      medicationCode: 'M',
      medicationName: 'Med',
      quantity: 2.5,
      unit: 'ml',
      dispensedAt: '2026-11-25T09:30:00.000Z',
      batchNumber: 'L1',
    };
    const values = valuesOf(record);
    expect(values).toMatchObject({ quantity: '2.5', batchNumber: 'L1', patientName: '' });
    const input = toInput(values, { local: values.dispensedAt, iso: record.dispensedAt });
    expect(validate(input, record)).toEqual({});
    expect(input).toMatchObject({ quantity: 2.5, unit: 'ml', dispensedAt: record.dispensedAt, batchNumber: 'L1' });
  });

  const now = Date.parse('2026-11-25T09:30:00.000Z');
  const at = (dispensedAt: string, over: Partial<FormValues> = {}) => {
    const values = filled({ dispensedAt, ...over });
    return toInput(values, { local: 'untouched', iso: null });
  };

  test("a dispense time 30 minutes or 2 days ahead of now (the server's time) is refused at the field, in words", () => {
    for (const ahead of [30 * 60_000, 2 * 86_400_000]) {
      const errors = validate(at(toLocalInput(new Date(now + ahead).toISOString())), undefined, now);
      expect(errors).toEqual({ dispensedAt: expect.stringMatching(/^Dispensed at is later than now/) });
    }
    expect(validate(at(toLocalInput(new Date(now + 60_000).toISOString())), undefined, now)).toEqual({});
  });

  test('a record refused for its future time cannot be saved again unchanged: the time must be corrected', () => {
    const future = { ...makeRecord(), dispensedAt: new Date(now + 3_600_000).toISOString() };
    const values = valuesOf(future);
    const input = toInput({ ...values, notes: 'x' }, { local: values.dispensedAt, iso: future.dispensedAt });
    expect(validate(input, future, now).dispensedAt).toMatch(/later than now/);
  });

  test('an empty "Dispensed at" asks for the date and time, not for an ISO format', () => {
    expect(validate(at(''), undefined, now).dispensedAt).toBe('Enter the date and time of the dispense');
  });

  test('absurd values are refused at their fields: year 1990, expiry 9999, 0.0001 tablet', () => {
    expect(validate(at('1990-01-01T10:00', { expiryDate: '' }), undefined, now)).toEqual({ dispensedAt: expect.stringMatching(/year 2000/) });
    expect(validate(at('2026-11-25T09:00', { expiryDate: '9999-12-31' }), undefined, now)).toEqual({ expiryDate: expect.stringMatching(/10 years/) });
    expect(validate(at('2026-11-25T09:00', { quantity: '0.0001', unit: 'tablet' }), undefined, now)).toEqual({
      quantity: expect.stringMatching(/quarters/),
    });
  });

  test('a dispense dated more than 7 days back asks to confirm; a day back or an unchanged old time does not', () => {
    expect(daysBack({ dispensedAt: '2026-11-10T09:30:00.000Z' }, undefined, now)).toBe(15);
    expect(daysBack({ dispensedAt: '2026-11-24T09:30:00.000Z' }, undefined, now)).toBeNull();
    const old = { dispensedAt: '2026-11-10T09:30:00.000Z' };
    expect(daysBack(old, old, now)).toBeNull();
  });
});

function makeRecord(): Dispense {
  return {
    externalId: '5b0f7f8e-2f6a-4d5e-9a41-0c1f8a3b9d20',
    siteId: 'S1',
    dispensedBy: 'u',
    status: 'dispensed',
    updatedAt: '2026-11-25T09:31:00.000Z',
    patientId: 'P-9',
    medicationCode: 'M',
    medicationName: 'Med',
    quantity: 2,
    unit: 'capsule',
    dispensedAt: '2026-11-25T09:30:00.000Z',
  };
}
