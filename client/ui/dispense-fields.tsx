/**
 * Every input of a dispense record, labelled, in counter order (the tab order is the visual
 * order), each with its error beside it.
 * Shared by the new-dispense form and the edit dialog.
 */
import type { KeyboardEvent, Ref } from 'react';
import { UNITS } from '../../schemas/dispense';
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

const SPECS: FieldSpec[] = [
  { field: 'patientId', label: 'Patient ID', required: true, maxLength: 64 },
  { field: 'patientName', label: 'Patient name', maxLength: 200 },
  { field: 'medicationCode', label: 'Medication code', required: true, maxLength: 64 },
  { field: 'medicationName', label: 'Medication name', required: true, maxLength: 200 },
  { field: 'quantity', label: 'Quantity', required: true, type: 'number' },
  { field: 'unit', label: 'Unit', required: true },
  { field: 'batchNumber', label: 'Batch number', maxLength: 64 },
  { field: 'expiryDate', label: 'Expiry date', type: 'date' },
  { field: 'dispensedAt', label: 'Dispensed at', required: true, type: 'datetime-local' },
  { field: 'prescriber', label: 'Prescriber', maxLength: 200 },
  { field: 'prescriptionRef', label: 'Prescription reference', maxLength: 64 },
  { field: 'notes', label: 'Notes', maxLength: 1000 },
];

/** Each input's label, as the form shows it: the words a record's history and the server's reasons use too (field-words.ts). */
export const FIELD_LABELS = Object.fromEntries(SPECS.map((s) => [s.field, s.label])) as Record<InputField, string>;

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
        const error = errors[spec.field];
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
          control = (
            <textarea
              {...common}
              rows={2}
              maxLength={spec.maxLength}
              onKeyDown={submitOnEnter}
              onChange={(e) => onChange(spec.field, e.target.value)}
            />
          );
        } else {
          control = (
            <input
              {...common}
              type={spec.type ?? 'text'}
              maxLength={spec.maxLength}
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
