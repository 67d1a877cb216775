/**
 * The FHIR R4 (4.0.1) resources and data types this server writes, as much of each as it fills in:
 * a typo in the mapping fails the type check, and the tests check every answer against the
 * specification's own definitions (test/support/fhir.ts).
 */

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}

export interface Identifier {
  system: string;
  value: string;
}

/** A logical reference: what is referred to is named by its identifier, as no resource of it is served. */
export interface Reference {
  reference?: string;
  type?: 'Patient' | 'Practitioner' | 'Location' | 'MedicationRequest';
  identifier?: Identifier;
  display?: string;
}

export interface Quantity {
  value: number;
  unit: string;
  system?: string;
  code?: string;
}

export interface Annotation {
  text: string;
  authorString?: string;
  time?: string;
}

export interface Medication {
  resourceType: 'Medication';
  id: string;
  code: CodeableConcept;
  batch?: { lotNumber?: string; expirationDate?: string };
}

export type MedicationDispenseStatus =
  'preparation' | 'in-progress' | 'cancelled' | 'on-hold' | 'completed' | 'entered-in-error' | 'stopped' | 'declined' | 'unknown';

export interface MedicationDispense {
  resourceType: 'MedicationDispense';
  id: string;
  meta: { lastUpdated: string };
  contained: [Medication];
  identifier: Identifier[];
  status: MedicationDispenseStatus;
  statusReasonCodeableConcept?: CodeableConcept;
  medicationReference: Reference;
  subject: Reference;
  performer: { actor: Reference }[];
  location: Reference;
  authorizingPrescription?: Reference[];
  quantity: Quantity;
  whenHandedOver: string;
  note?: Annotation[];
}

export interface OperationOutcomeIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  /** From the IssueType value set: invalid, login, expired, forbidden, not-found, not-supported, throttled, transient, exception, ... */
  code: string;
  details?: CodeableConcept;
  diagnostics?: string;
  expression?: string[];
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: OperationOutcomeIssue[];
}

export interface Bundle<T> {
  resourceType: 'Bundle';
  type: 'searchset';
  timestamp: string;
  link: { relation: 'self' | 'next'; url: string }[];
  entry?: { fullUrl: string; resource: T; search: { mode: 'match' } }[];
}
