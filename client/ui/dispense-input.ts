/**
 * The dispense form's values (strings, as inputs hold them) and their translation into a
 * record input, checked by the shared zod schema so the form and the server agree on every rule.
 */
import { checkDispenseRules, dispenseObjectSchema, dispenseSchema, type Dispense } from '../../schemas/dispense';
import { correctedNow } from '../clock';
import type { DispenseInput } from '../records';

export const INPUT_FIELDS = [
  'patientId',
  'patientName',
  'medicationCode',
  'medicationName',
  'quantity',
  'unit',
  'batchNumber',
  'expiryDate',
  'prescriber',
  'prescriptionRef',
  'dispensedAt',
  'notes',
] as const;
export type InputField = (typeof INPUT_FIELDS)[number];
export type FormValues = Record<InputField, string>;
export type FieldErrors = Partial<Record<InputField, string>> & { form?: string };

/** `YYYY-MM-DDTHH:mm` in local time, the value a datetime-local input shows. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** The form's starting values; "Dispensed at" is now in the server's time (clock.ts). */
export function emptyValues(now = new Date(correctedNow())): FormValues {
  const values = Object.fromEntries(INPUT_FIELDS.map((f) => [f, ''])) as FormValues;
  return { ...values, dispensedAt: toLocalInput(now.toISOString()) };
}

export function valuesOf(d: Dispense): FormValues {
  const values = Object.fromEntries(INPUT_FIELDS.map((f) => [f, d[f] === undefined ? '' : String(d[f])])) as FormValues;
  return { ...values, dispensedAt: toLocalInput(d.dispensedAt) };
}

/**
 * The record input the values describe. `dispensedAtDefault` is the field's starting value
 * with the instant it stands for (null: "now"), so an untouched field keeps full precision.
 */
export function toInput(values: FormValues, dispensedAtDefault: { local: string; iso: string | null }): DispenseInput {
  const text = (f: InputField) => values[f].trim() || undefined;
  const local = values.dispensedAt;
  let dispensedAt: string;
  if (local === dispensedAtDefault.local) dispensedAt = dispensedAtDefault.iso ?? new Date(correctedNow()).toISOString();
  else dispensedAt = Number.isNaN(new Date(local).getTime()) ? local : new Date(local).toISOString();
  const quantity = values.quantity.trim() === '' ? Number.NaN : Number(values.quantity);
  return {
    patientId: values.patientId.trim(),
    patientName: text('patientName'),
    medicationCode: values.medicationCode.trim(),
    medicationName: values.medicationName.trim(),
    quantity,
    unit: values.unit as Dispense['unit'],
    batchNumber: text('batchNumber'),
    expiryDate: text('expiryDate'),
    prescriber: text('prescriber'),
    prescriptionRef: text('prescriptionRef'),
    dispensedAt,
    notes: text('notes'),
  };
}

const PLACEHOLDER: Omit<Dispense, InputField> = {
  externalId: '00000000-0000-4000-8000-000000000000',
  siteId: 'site',
  dispensedBy: 'user',
  status: 'dispensed',
  updatedAt: new Date(0).toISOString(),
};

/** Messages for the counter where the schema's own would list every unit or speak of types. */
const FRIENDLIER: Partial<Record<InputField, (message: string) => string>> = {
  unit: () => 'Choose a unit',
  quantity: (m) => (m === 'Quantity must be a number' ? 'Enter the quantity as a number' : m),
};

/** Field messages from a zod error's issues; anything not tied to a form field goes to `form`. */
export function errorsFromIssues(issues: { path: PropertyKey[]; message: string }[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = issue.path[0];
    if ((INPUT_FIELDS as readonly PropertyKey[]).includes(field)) {
      const key = field as InputField;
      errors[key] ??= FRIENDLIER[key]?.(issue.message) ?? issue.message;
    } else {
      errors.form ??= issue.message;
    }
  }
  return errors;
}

/** The cross-field rules alone, so they are reported even while another field is still wrong. */
const rulesSchema = dispenseObjectSchema
  .pick({ expiryDate: true, dispensedAt: true, status: true, voidReason: true })
  .superRefine(checkDispenseRules);

/** Checks the input as part of a whole record (`base`: the record being edited, if any). */
export function validate(input: DispenseInput, base?: Dispense): FieldErrors {
  const candidate = { ...(base ?? PLACEHOLDER), ...input };
  const whole = dispenseSchema.safeParse(candidate);
  if (whole.success) return {};
  const { expiryDate, dispensedAt, status, voidReason } = candidate;
  const rules = rulesSchema.safeParse({ expiryDate, dispensedAt, status, voidReason });
  return errorsFromIssues([...whole.error.issues, ...(rules.success ? [] : rules.error.issues)]);
}
