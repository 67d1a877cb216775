/**
 * Every input of a dispense record, labelled, in counter order (the tab order is the visual
 * order), each with its error beside it.
 * Shared by the new-dispense form and the edit dialog.
 */
import type { KeyboardEvent, Ref } from 'react';
import { z } from 'zod';
import { dispenseShape, FIELD_LABELS, UNITS } from '../../schemas/dispense';
import type { FieldErrors, FormValues, InputField } from './dispense-input';

interface FieldsProps {
  idPrefix: string;
  values: FormValues;
  errors: FieldErrors;
  onChange: (field: InputField, value: string) => void;
  firstFieldRef?: Ref<HTMLInputElement>;
}

interface FieldSpec {
  field: InputField;
  label: string;
  required?: boolean;
  type?: 'text' | 'number' | 'date' | 'datetime-local';
  maxLength?: number;
}

/** A text field's limit, from the shared schema. */
function maxLengthOf(field: InputField): number | undefined {
  const schema: z.ZodType = dispenseShape[field];
  const text = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  return text instanceof z.ZodString ? (text.maxLength ?? undefined) : undefined;
}

// The limit is said at the field and never set as the input's maxlength: the browser would cut
// pasted text there without a word, and the cut value would be saved.
const SPECS: FieldSpec[] = (
  [
    { field: 'patientId', required: true },
    { field: 'patientName' },
    { field: 'medicationCode', required: true },
    { field: 'medicationName', required: true },
    { field: 'quantity', required: true, type: 'number' },
    { field: 'unit', required: true },
    { field: 'batchNumber' },
    { field: 'expiryDate', type: 'date' },
    { field: 'dispensedAt', required: true, type: 'datetime-local' },
    { field: 'prescriber' },
    { field: 'prescriptionRef' },
    { field: 'notes' },
  ] as Pick<FieldSpec, 'field' | 'required' | 'type'>[]
).map((spec) => ({ ...spec, label: FIELD_LABELS[spec.field], maxLength: spec.type ? undefined : maxLengthOf(spec.field) }));

/** Said at the field as soon as a text is longer than its limit (typed or pasted), before any save. */
function lengthError(spec: FieldSpec, value: string): string | undefined {
  if (!spec.maxLength || value.length <= spec.maxLength) return undefined;
  return `${spec.label} is ${value.length.toLocaleString()} characters long: at most ${spec.maxLength.toLocaleString()} can be saved. Shorten it; nothing is cut for you.`;
}

/** Enter saves from the notes too (Shift+Enter for a new line), so the whole form is keyboard-quick. */
function submitOnEnter(e: KeyboardEvent<HTMLTextAreaElement>) {
  if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
    e.preventDefault();
    e.currentTarget.form?.requestSubmit();
  }
}

export function DispenseFields({ idPrefix, values, errors, onChange, firstFieldRef }: FieldsProps) {
  return (
    <div className="fields">
      {SPECS.map((spec, index) => {
        const id = `${idPrefix}-${spec.field}`;
        const error = errors[spec.field] ?? lengthError(spec, values[spec.field]);
        const common = {
          id,
          name: spec.field,
          value: values[spec.field],
          required: spec.required,
          'aria-invalid': error ? true : undefined,
          'aria-describedby': error ? `${id}-error` : undefined,
        } as const;
        let control;
        if (spec.field === 'unit') {
          control = (
            <select {...common} onChange={(e) => onChange(spec.field, e.target.value)}>
              <option value="">Choose…</option>
              {UNITS.map((u) => (
                <option key={u} value={u}>
                  {u}
                </option>
              ))}
            </select>
          );
        } else if (spec.field === 'notes') {
          control = <textarea {...common} rows={2} onKeyDown={submitOnEnter} onChange={(e) => onChange(spec.field, e.target.value)} />;
        } else {
          control = (
            <input
              {...common}
              type={spec.type ?? 'text'}
              autoComplete="off"
              ref={index === 0 ? firstFieldRef : undefined}
              step={spec.type === 'number' ? 'any' : undefined}
              inputMode={spec.type === 'number' ? 'decimal' : undefined}
              onChange={(e) => onChange(spec.field, e.target.value)}
            />
          );
        }
        return (
          <div key={spec.field} className={`field field-${spec.field}${error ? ' has-error' : ''}`}>
            <label htmlFor={id}>
              {spec.label}
              {spec.required ? (
                <span className="req" aria-hidden="true">
                  {' '}
                  *
                </span>
              ) : null}
            </label>
            {control}
            {error ? (
              <p id={`${id}-error`} className="field-error">
                {error}
              </p>
            ) : null}
            {spec.field === 'notes' ? <p className="hint">Enter saves · Shift+Enter for a new line</p> : null}
          </div>
        );
      })}
    </div>
  );
}
