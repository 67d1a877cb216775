/**
 * The dispense record: the one definition both the browser and the server parse with.
 * The RxDB collection schema is derived from it (see rxdb-schema.ts), so no field is defined twice.
 */
import { z } from 'zod';

export const UNITS = ['tablet', 'capsule', 'ml', 'g', 'mg', 'unit', 'dose', 'drop', 'puff', 'patch', 'sachet', 'vial', 'ampoule', 'pack'] as const;
export const DISPENSE_STATUSES = ['dispensed', 'voided'] as const;

// Year 0000 is valid ISO but not a PostgreSQL date: it would fail the whole push batch.
const notYearZero = (v: string) => !v.startsWith('0000');
const YEAR_ZERO = 'Year 0000 is not a date';

/** ISO instant in UTC with milliseconds, the form `Date.prototype.toISOString()` gives; canonical so equality is string equality (docs/decisions/iso-instants.md). */
export const isoInstant = () =>
  z.iso
    .datetime({ precision: 3, error: 'Expected an ISO date-time in UTC with milliseconds, e.g. 2026-11-25T09:30:00.000Z' })
    .max(24)
    .refine(notYearZero, YEAR_ZERO);

/**
 * PostgreSQL's text and jsonb cannot hold NUL or a lone UTF-16 surrogate (pasted or scanned
 * text can carry either): such a record would fail its whole batch on the server, so it is
 * refused where it is typed. A refinement, so the derived RxDB schema does not change.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what must be found: PostgreSQL cannot store it
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text that is not blank. Not trimmed by the schema: a parsed record equals what was sent, so a re-push compares equal. */
const text = (max: number, label: string) =>
  z
    .string()
    .max(max, `${label} must be at most ${max} characters`)
    .regex(/\S/, `${label} is required`)
    .refine((v) => !UNSTORABLE.test(v), `${label} contains a character that cannot be stored (NUL or a broken surrogate)`);
const optionalText = (max: number, label: string) => text(max, label).optional();

export const dispenseShape = {
  // Lower case only: PostgreSQL's uuid ignores case, so 'A…' and 'a…' would be two records on the
  // device but one row on the server (crypto.randomUUID() makes lower case).
  externalId: z
    .uuid({ error: 'Expected a UUID made on the device' })
    .max(36)
    .refine((v) => v === v.toLowerCase(), 'Expected the UUID in lower case'),
  siteId: text(64, 'Site'),
  patientId: text(64, 'Patient ID'),
  patientName: optionalText(200, 'Patient name'),
  medicationCode: text(64, 'Medication code'),
  medicationName: text(200, 'Medication name'),
  quantity: z.number({ error: 'Quantity must be a number' }).positive('Quantity must be more than 0').max(100000, 'Quantity must be at most 100000'),
  unit: z.enum(UNITS),
  batchNumber: optionalText(64, 'Batch number'),
  expiryDate: z.iso.date({ error: 'Expected a date, e.g. 2027-03-31' }).refine(notYearZero, YEAR_ZERO).optional(),
  prescriber: optionalText(200, 'Prescriber'),
  prescriptionRef: optionalText(64, 'Prescription reference'),
  dispensedAt: isoInstant(),
  dispensedBy: text(64, 'Dispensed by'),
  status: z.enum(DISPENSE_STATUSES),
  voidReason: optionalText(500, 'Void reason'),
  notes: optionalText(1000, 'Notes'),
  // A possible duplicate the pharmacist dispensed anyway: who confirmed it, and when (set from the session, never typed).
  duplicateConfirmedBy: optionalText(64, 'Duplicate confirmed by'),
  duplicateConfirmedAt: isoInstant().optional(),
  /** Why the record's latest edit was made (every edit at the counter gives one, as a void does). */
  editReason: optionalText(500, 'Reason for the change'),
  updatedAt: isoInstant(),
};

/** The words the counter uses for each field, in messages and in a record's history. */
export const FIELD_LABELS: Record<keyof typeof dispenseShape, string> = {
  externalId: 'Record id',
  siteId: 'Site',
  patientId: 'Patient ID',
  patientName: 'Patient name',
  medicationCode: 'Medication code',
  medicationName: 'Medication name',
  quantity: 'Quantity',
  unit: 'Unit',
  batchNumber: 'Batch number',
  expiryDate: 'Expiry date',
  prescriber: 'Prescriber',
  prescriptionRef: 'Prescription reference',
  dispensedAt: 'Dispensed at',
  dispensedBy: 'Dispensed by',
  status: 'Status',
  voidReason: 'Reason for voiding',
  notes: 'Notes',
  duplicateConfirmedBy: 'Duplicate confirmed by',
  duplicateConfirmedAt: 'Duplicate confirmed at',
  editReason: 'Reason for the change',
  updatedAt: 'Time of the last change',
};

/** The record without its cross-field rules: what the RxDB JSON schema is derived from. */
export const dispenseObjectSchema = z.strictObject(dispenseShape);

/** Cross-field rules that JSON schema cannot say; applied by every parser of a record. */
export function checkDispenseRules(
  d: Pick<
    z.infer<typeof dispenseObjectSchema>,
    'expiryDate' | 'dispensedAt' | 'status' | 'voidReason' | 'duplicateConfirmedBy' | 'duplicateConfirmedAt'
  >,
  ctx: z.RefinementCtx,
): void {
  if (d.expiryDate && d.expiryDate < d.dispensedAt.slice(0, 10)) {
    ctx.addIssue({ code: 'custom', path: ['expiryDate'], message: 'Expiry date is before the dispense date: this stock had expired' });
  }
  if (d.status === 'voided' && !d.voidReason) {
    ctx.addIssue({ code: 'custom', path: ['voidReason'], message: 'A voided record needs a reason' });
  }
  if (d.status === 'dispensed' && d.voidReason) {
    ctx.addIssue({ code: 'custom', path: ['voidReason'], message: 'Only a voided record has a void reason' });
  }
  if (!d.duplicateConfirmedBy !== !d.duplicateConfirmedAt) {
    ctx.addIssue({ code: 'custom', path: ['duplicateConfirmedAt'], message: 'A confirmed duplicate names who confirmed it and when' });
  }
}

export const dispenseSchema = dispenseObjectSchema.superRefine(checkDispenseRules);
export type Dispense = z.infer<typeof dispenseSchema>;
export type Unit = (typeof UNITS)[number];

/** Field names of the record, in schema order. */
export const DISPENSE_FIELDS = Object.keys(dispenseShape) as (keyof Dispense)[];

/** True when two records hold the same values (absent and undefined optional fields are equal). */
export function sameDispense(a: Dispense, b: Dispense): boolean {
  return DISPENSE_FIELDS.every((f) => (a[f] ?? null) === (b[f] ?? null));
}

/**
 * The one conflict rule, on the device and on the server: which of two versions of a record wins.
 *   1. A voided version wins over a non-voided one (a void is never undone by an older edit).
 *   2. Otherwise the version with the later updatedAt wins; on a tie `server` (the one held) wins.
 * So the versions a record takes only move forward by it: every edit stamps an updatedAt later
 * than the version it changes, and a void is final.
 */
export function conflictWinner(local: Dispense, server: Dispense): 'local' | 'server' {
  const localVoided = local.status === 'voided';
  const serverVoided = server.status === 'voided';
  if (localVoided !== serverVoided) return localVoided ? 'local' : 'server';
  return local.updatedAt > server.updatedAt ? 'local' : 'server';
}

/** The fields whose values differ between two versions of a record, for the audit trail. */
export function changedFields(before: Dispense, after: Dispense): (keyof Dispense)[] {
  return DISPENSE_FIELDS.filter((f) => (before[f] ?? null) !== (after[f] ?? null));
}
