/**
 * The dispense form's values (strings, as inputs hold them) and their translation into a
 * record input, checked by the shared zod schema so the form and the server agree on every rule.
 */
import { checkDispenseRules, dispenseObjectSchema, dispenseSchema, type Dispense } from '../../schemas/dispense';
import { entryIssues } from '../../schemas/entry-rules';
import { correctedNow } from '../data/clock';
import { formatWhen } from './format';
import type { DispenseInput } from '../data/records';

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
 * with the instant it stands for (null: "now"), so an untouched field keeps full precision;
 * `local` null: the field was changed, its value is what counts.
 */
export function toInput(values: FormValues, dispensedAtDefault: { local: string | null; iso: string | null }): DispenseInput {
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

/** Messages for the counter where the schema's own would list every unit or speak of formats. */
const FRIENDLIER: Partial<Record<InputField, (message: string) => string>> = {
  unit: () => 'Choose a unit',
  quantity: (m) => (m === 'Quantity must be a number' ? 'Enter the quantity as a number' : m),
  dispensedAt: (m) => (m.startsWith('Expected') ? 'Enter the date and time of the dispense' : m),
  expiryDate: (m) => (m.startsWith('Expected') ? 'Enter the expiry date as a full date, or leave it empty' : m),
};

/**
 * A dispense time later than now by more than this is refused at the counter (now in the
 * server's time, clock.ts): the few minutes cover a clock measured to the second and a record
 * typed at the turn of a minute. Below the server's own limit (CLOCK_AHEAD_LIMIT_MINUTES, 10 by
 * default), so what the counter accepts the server accepts.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** A dispense time further back than this asks to confirm: a late entry from a paper register is legitimate, a wrong day is not. */
export const CONFIRM_PAST_DAYS = 7;

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

/** Refuses a dispense time in the future, whatever else changed: such a record is never right. */
function futureIssue(dispensedAt: string, now: number): { path: ['dispensedAt']; message: string } | null {
  const at = Date.parse(dispensedAt);
  if (Number.isNaN(at) || at <= now + FUTURE_TOLERANCE_MS) return null;
  return {
    path: ['dispensedAt'],
    message: `Dispensed at is later than now (${formatWhen(new Date(now).toISOString(), now)}): record a dispense when it is handed out`,
  };
}

/**
 * Checks the input as part of a whole record (`base`: the record being edited, if any): the
 * shared schema, the entry rules on what the input sets or changes (as the server judges a
 * push), and a dispense time not in the future.
 */
export function validate(input: DispenseInput, base?: Dispense, now = correctedNow()): FieldErrors {
  const candidate = { ...(base ?? PLACEHOLDER), ...input };
  const future = futureIssue(candidate.dispensedAt, now);
  const whole = dispenseSchema.safeParse(candidate);
  if (whole.success) return errorsFromIssues([...(future ? [future] : []), ...entryIssues(whole.data, base)]);
  const { expiryDate, dispensedAt, status, voidReason } = candidate;
  const rules = rulesSchema.safeParse({ expiryDate, dispensedAt, status, voidReason });
  return errorsFromIssues([...(future ? [future] : []), ...whole.error.issues, ...(rules.success ? [] : rules.error.issues)]);
}

/**
 * How many days back the input dates a dispense, when it sets a time far enough back to ask
 * "are you sure" (more than CONFIRM_PAST_DAYS before now); null otherwise or when unchanged.
 */
export function daysBack(input: Pick<DispenseInput, 'dispensedAt'>, base?: Pick<Dispense, 'dispensedAt'>, now = correctedNow()): number | null {
  if (base && base.dispensedAt === input.dispensedAt) return null;
  const days = Math.floor((now - Date.parse(input.dispensedAt)) / 86_400_000);
  return days > CONFIRM_PAST_DAYS ? days : null;
}
