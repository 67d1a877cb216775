/**
 * A dispense record as a FHIR R4 MedicationDispense: the one mapping, pure, row by row as the
 * table in docs/fhir.md gives it. Nothing else is served as a resource of its own, so the patient,
 * the pharmacist, the site and the prescription are logical references (an identifier and a name).
 */
import type { Dispense } from '../../schemas/dispense';
import type { Annotation, Medication, MedicationDispense, Quantity, Reference } from './resources';

const BASE = 'urn:sems-dispense';

/** Identifier and code systems of this server's own ids, and the standard ones it uses. */
export const SYSTEM = {
  dispense: `${BASE}:dispense`,
  site: `${BASE}:site`,
  user: `${BASE}:user`,
  ucum: 'http://unitsofmeasure.org',
  dispenseStatus: 'http://hl7.org/fhir/CodeSystem/medicationdispense-status',
} as const;

/**
 * The system of what a site's counter types: its patient ids, medication codes and prescription
 * numbers mean what that site means by them, so P-1001 at two sites are two identifiers, not one
 * patient (docs/decisions/fhir-site-systems.md).
 */
export function siteSystem(siteId: string, what: 'patient' | 'medication' | 'prescription'): string {
  return `${BASE}:site:${encodeURIComponent(siteId)}:${what}`;
}

/** The id of the Medication each MedicationDispense contains. */
export const MEDICATION_ID = 'medication';

/** The record's units that UCUM has, as UCUM writes them; the others (tablet, capsule, ...) go as text only. */
const UCUM: Partial<Record<Dispense['unit'], string>> = { mg: 'mg', g: 'g', ml: 'mL' };

// FHIR strings hold no control characters but tab, CR and LF; a record may (pasted or scanned text).
// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

/** Text as a FHIR string: control characters (but tab and line breaks) as U+FFFD, surrounding space removed. */
export function fhirString(text: string): string {
  return text.replace(CONTROL, '\ufffd').trim();
}

/** Text as a FHIR code: a FHIR string with each run of white space inside it made one space. */
export function fhirCode(text: string): string {
  return fhirString(text).replace(/\s+/g, ' ');
}

export function toQuantity(quantity: number, unit: Dispense['unit']): Quantity {
  const code = UCUM[unit];
  return code ? { value: quantity, unit: code, system: SYSTEM.ucum, code } : { value: quantity, unit };
}

function medication(d: Dispense): Medication {
  const med: Medication = {
    resourceType: 'Medication',
    id: MEDICATION_ID,
    code: { coding: [{ system: siteSystem(d.siteId, 'medication'), code: fhirCode(d.medicationCode) }], text: fhirString(d.medicationName) },
  };
  if (d.batchNumber || d.expiryDate) {
    med.batch = {};
    if (d.batchNumber) med.batch.lotNumber = fhirString(d.batchNumber);
    if (d.expiryDate) med.batch.expirationDate = d.expiryDate;
  }
  return med;
}

/** The prescription as a logical reference: its number at the site, and the prescriber by name. */
function prescription(d: Dispense): Reference[] | undefined {
  if (!d.prescriptionRef && !d.prescriber) return undefined;
  const ref: Reference = { type: 'MedicationRequest' };
  if (d.prescriptionRef) ref.identifier = { system: siteSystem(d.siteId, 'prescription'), value: fhirString(d.prescriptionRef) };
  if (d.prescriber) ref.display = `Prescribed by ${fhirString(d.prescriber)}`;
  return [ref];
}

function notes(d: Dispense): Annotation[] | undefined {
  const out: Annotation[] = [];
  if (d.notes) out.push({ text: fhirString(d.notes) });
  if (d.duplicateConfirmedBy && d.duplicateConfirmedAt) {
    const by = fhirString(d.duplicateConfirmedBy);
    out.push({ text: `Possible duplicate dispense, dispensed anyway: confirmed by ${by}`, authorString: by, time: d.duplicateConfirmedAt });
  }
  if (d.editReason) out.push({ text: `Reason for the latest change: ${fhirString(d.editReason)}` });
  return out.length > 0 ? out : undefined;
}

/** The record as a MedicationDispense; `lastUpdated` is the server's last change of it. */
export function toMedicationDispense(d: Dispense, lastUpdated: string): MedicationDispense {
  const authorizingPrescription = prescription(d);
  const note = notes(d);
  return {
    resourceType: 'MedicationDispense',
    id: d.externalId,
    meta: { lastUpdated },
    // The lot and expiry have no place on R4's MedicationDispense but the Medication's batch; one
    // shape for every record, with or without a lot (docs/decisions/fhir-contained-medication.md).
    contained: [medication(d)],
    identifier: [{ system: SYSTEM.dispense, value: d.externalId }],
    status: d.status === 'voided' ? 'entered-in-error' : 'completed',
    ...(d.status === 'voided' && d.voidReason ? { statusReasonCodeableConcept: { text: fhirString(d.voidReason) } } : {}),
    medicationReference: { reference: `#${MEDICATION_ID}`, display: fhirString(d.medicationName) },
    subject: {
      type: 'Patient',
      identifier: { system: siteSystem(d.siteId, 'patient'), value: fhirString(d.patientId) },
      ...(d.patientName ? { display: fhirString(d.patientName) } : {}),
    },
    performer: [
      { actor: { type: 'Practitioner', identifier: { system: SYSTEM.user, value: fhirString(d.dispensedBy) }, display: fhirString(d.dispensedBy) } },
    ],
    location: { type: 'Location', identifier: { system: SYSTEM.site, value: fhirString(d.siteId) }, display: fhirString(d.siteId) },
    ...(authorizingPrescription ? { authorizingPrescription } : {}),
    quantity: toQuantity(d.quantity, d.unit),
    whenHandedOver: d.dispensedAt,
    ...(note ? { note } : {}),
  };
}
