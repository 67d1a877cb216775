import fs from 'node:fs';
import path from 'node:path';
import { dispenseSchema, type Dispense } from '../../schemas/dispense';
import { expectValidFhir } from '../../test/support/fhir';
import { fhirCode, fhirString, siteSystem, SYSTEM, toMedicationDispense } from './medication-dispense';

const LAST_UPDATED = '2026-11-25T09:31:02.417Z';

/** A record with every optional field empty; each test adds what its row of the mapping needs. */
function record(overrides: Partial<Dispense> = {}): Dispense {
  return {
    externalId: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
    siteId: 'site-01',
    patientId: 'P-1001',
    medicationCode: 'AMOX500',
    medicationName: 'Amoxicillin 500 mg capsules',
    quantity: 21,
    unit: 'capsule',
    dispensedAt: '2026-11-25T09:30:00.000Z',
    dispensedBy: 'alice',
    status: 'dispensed',
    updatedAt: '2026-11-25T09:30:00.000Z',
    ...overrides,
  };
}

function mapped(overrides: Partial<Dispense> = {}) {
  const resource = toMedicationDispense(record(overrides), LAST_UPDATED);
  expectValidFhir(resource);
  return resource;
}

test('the externalId is the id and the identifier, and the server’s last change is meta.lastUpdated', () => {
  const r = mapped();
  expect(r).toMatchObject({
    resourceType: 'MedicationDispense',
    id: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f',
    meta: { lastUpdated: LAST_UPDATED },
    identifier: [{ system: 'urn:sems-dispense:dispense', value: '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f' }],
  });
});

test('a dispensed record is completed, with no status reason', () => {
  const r = mapped();
  expect(r.status).toBe('completed');
  expect(r).not.toHaveProperty('statusReasonCodeableConcept');
});

test('a voided record is entered-in-error, with the void reason as the status reason’s text', () => {
  const r = mapped({ status: 'voided', voidReason: 'Wrong patient selected' });
  expect(r.status).toBe('entered-in-error');
  expect(r.statusReasonCodeableConcept).toEqual({ text: 'Wrong patient selected' });
});

test('the patient is a logical reference: the id under the site’s patient system, and the name as display', () => {
  expect(mapped({ patientName: 'Ana Lima' }).subject).toEqual({
    type: 'Patient',
    identifier: { system: 'urn:sems-dispense:site:site-01:patient', value: 'P-1001' },
    display: 'Ana Lima',
  });
  expect(mapped().subject).not.toHaveProperty('display');
});

test('the medication is a contained Medication with the site’s code and the name, referred to by medicationReference', () => {
  const r = mapped();
  expect(r.contained).toEqual([
    {
      resourceType: 'Medication',
      id: 'medication',
      code: { coding: [{ system: 'urn:sems-dispense:site:site-01:medication', code: 'AMOX500' }], text: 'Amoxicillin 500 mg capsules' },
    },
  ]);
  expect(r.medicationReference).toEqual({ reference: '#medication', display: 'Amoxicillin 500 mg capsules' });
  expect(r).not.toHaveProperty('medicationCodeableConcept');
});

test.each([
  [
    { batchNumber: 'B-778', expiryDate: '2028-06-30' },
    { lotNumber: 'B-778', expirationDate: '2028-06-30' },
  ],
  [{ batchNumber: 'B-778' }, { lotNumber: 'B-778' }],
  [{ expiryDate: '2028-06-30' }, { expirationDate: '2028-06-30' }],
])('the lot number and expiry (%p) are the contained Medication’s batch', (fields, batch) => {
  expect(mapped(fields).contained[0].batch).toEqual(batch);
});

test('with no lot number and no expiry, the Medication has no batch', () => {
  expect(mapped().contained[0]).not.toHaveProperty('batch');
});

test.each([
  ['mg', { value: 250, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' }],
  ['g', { value: 250, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' }],
  ['ml', { value: 250, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' }],
  ['tablet', { value: 250, unit: 'tablet' }],
  ['puff', { value: 250, unit: 'puff' }],
] as const)('a quantity in %s is %p', (unit, quantity) => {
  expect(mapped({ quantity: 250, unit }).quantity).toEqual(quantity);
});

test('whenHandedOver is the dispense instant', () => {
  expect(mapped().whenHandedOver).toBe('2026-11-25T09:30:00.000Z');
});

test('the pharmacist is the performer, by username', () => {
  expect(mapped().performer).toEqual([
    { actor: { type: 'Practitioner', identifier: { system: 'urn:sems-dispense:user', value: 'alice' }, display: 'alice' } },
  ]);
});

test('the site is the location, as a logical reference', () => {
  expect(mapped().location).toEqual({ type: 'Location', identifier: { system: 'urn:sems-dispense:site', value: 'site-01' }, display: 'site-01' });
});

test.each([
  [
    { prescriptionRef: 'RX-2026-0042', prescriber: 'Dr. Okafor' },
    [
      {
        type: 'MedicationRequest',
        identifier: { system: 'urn:sems-dispense:site:site-01:prescription', value: 'RX-2026-0042' },
        display: 'Prescribed by Dr. Okafor',
      },
    ],
  ],
  [
    { prescriptionRef: 'RX-2026-0042' },
    [{ type: 'MedicationRequest', identifier: { system: 'urn:sems-dispense:site:site-01:prescription', value: 'RX-2026-0042' } }],
  ],
  [{ prescriber: 'Dr. Okafor' }, [{ type: 'MedicationRequest', display: 'Prescribed by Dr. Okafor' }]],
])('the prescription and prescriber (%p) are the authorizing prescription', (fields, authorizing) => {
  expect(mapped(fields).authorizingPrescription).toEqual(authorizing);
});

test('with no prescription and no prescriber there is no authorizing prescription', () => {
  expect(mapped()).not.toHaveProperty('authorizingPrescription');
});

test('the notes, a confirmed possible duplicate and the reason of the latest edit are notes, in that order', () => {
  const r = mapped({
    notes: 'Counselled on taking it with food',
    duplicateConfirmedBy: 'bert',
    duplicateConfirmedAt: '2026-11-25T09:29:40.000Z',
    editReason: 'Quantity corrected',
  });
  expect(r.note).toEqual([
    { text: 'Counselled on taking it with food' },
    { text: 'Possible duplicate dispense, dispensed anyway: confirmed by bert', authorString: 'bert', time: '2026-11-25T09:29:40.000Z' },
    { text: 'Reason for the latest change: Quantity corrected' },
  ]);
});

test('a record with no notes, no confirmation and no edit reason has no note', () => {
  expect(mapped()).not.toHaveProperty('note');
});

test('a record holding every field maps to a valid resource', () => {
  mapped({
    patientName: 'Ana Lima',
    batchNumber: 'B-778',
    expiryDate: '2028-06-30',
    prescriber: 'Dr. Okafor',
    prescriptionRef: 'RX-2026-0042',
    status: 'voided',
    voidReason: 'Wrong patient',
    notes: 'n',
    duplicateConfirmedBy: 'bert',
    duplicateConfirmedAt: '2026-11-25T09:29:40.000Z',
    editReason: 'e',
  });
});

describe('text a record may hold that FHIR strings may not', () => {
  test('control characters (but tab and line breaks) become U+FFFD, and surrounding space goes', () => {
    expect(fhirString(' a\u0001b\u000bc\td\r\ne ')).toBe('a\ufffdb\ufffdc\td\r\ne');
    const r = mapped({ notes: 'scanned\u001dtext', patientName: '\u000cAna' });
    expect(r.note).toEqual([{ text: 'scanned\ufffdtext' }]);
    expect(r.subject.display).toBe('\ufffdAna');
  });

  test('a medication code with surrounding or doubled space is a valid code, its words kept', () => {
    expect(fhirCode(' amox\u00a0 500\t')).toBe('amox 500');
    expect(mapped({ medicationCode: ' amox  500 ' }).contained[0].code.coding![0].code).toBe('amox 500');
  });

  test('a patient id typed with surrounding space is the id without it', () => {
    expect(mapped({ patientId: ' p-1001 ' }).subject.identifier!.value).toBe('p-1001');
  });
});

test('a site id that is not URI-safe is percent-encoded in the site’s systems, and kept as is in the location', () => {
  expect(siteSystem('Site 1: north', 'patient')).toBe('urn:sems-dispense:site:Site%201%3A%20north:patient');
  const r = mapped({ siteId: 'Site 1: north' });
  expect(r.location.identifier).toEqual({ system: SYSTEM.site, value: 'Site 1: north' });
});

test('the example in docs/fhir.md is what the mapping gives for its record, and valid', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/fhir.md'), 'utf8');
  const example = doc.slice(doc.indexOf('### Example'));
  const [recordJson, resourceJson] = [...example.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
  const lastUpdated = /last changed on the server at `([^`]+)`/.exec(example)![1];
  const resource = toMedicationDispense(dispenseSchema.parse(recordJson), lastUpdated);
  expect(resource).toEqual(resourceJson);
  expectValidFhir(resourceJson);
});
