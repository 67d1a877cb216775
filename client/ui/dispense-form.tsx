/**
 * The new-dispense form, built for a counter: type, Tab, Enter. It saves to the device first
 * (sync happens later), then clears and puts the cursor back in the first field.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ZodError } from 'zod';
import type { Dispense } from '../../schemas/dispense';
import { duplicateNote } from '../patient-history';
import type { DispenseInput } from '../records';
import { useMarkUnsaved } from '../stores/unsaved-work';
import { DispenseFields } from './dispense-fields';
import { DuplicateDialog } from './duplicate-dialog';
import { PatientHistory, type HistoryLookup } from './patient-history';
import { emptyValues, errorsFromIssues, toInput, validate, type FieldErrors, type FormValues, type InputField } from './dispense-input';

/** What the duplicate check found for an input: records of the same patient and medication within the window. */
export interface DuplicateCheck {
  duplicates: Dispense[];
  hours: number;
  offline: boolean;
}

interface Props {
  save: (input: DispenseInput) => Promise<unknown>;
  /** The signed-in pharmacist (the history says who made a record when it was another). */
  username: string;
  /** The patient's history under the form, once a patient id is typed. */
  history?: HistoryLookup;
  /** Run before each save: a possible duplicate needs a confirmation, which the record's notes keep. */
  checkDuplicates?: (input: DispenseInput) => Promise<DuplicateCheck>;
}

export function DispenseForm({ save, username, history, checkDuplicates }: Props) {
  const [values, setValues] = useState<FormValues>(() => emptyValues());
  // The starting "Dispensed at" stands for "the moment Save is pressed" until someone changes it.
  const [defaultAt, setDefaultAt] = useState(() => values.dispensedAt);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [duplicate, setDuplicate] = useState<(DuplicateCheck & { input: DispenseInput }) | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const firstField = useRef<HTMLInputElement>(null);
  // Anything typed and not saved holds off a reload for a new version.
  useMarkUnsaved(Object.entries(values).some(([field, value]) => (field === 'dispensedAt' ? value !== defaultAt : value !== '')));

  // Ready to type as soon as the counter screen opens.
  useEffect(() => firstField.current?.focus(), []);

  const onChange = (field: InputField, value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors(({ [field]: _cleared, form: _form, ...rest }) => rest);
  };

  const focusFirstError = (found: FieldErrors) => {
    const field = Object.keys(found).find((k) => k !== 'form');
    formRef.current?.querySelector<HTMLElement>(`[name="${field}"]`)?.focus();
  };

  const reset = () => {
    const fresh = emptyValues();
    setValues(fresh);
    setDefaultAt(fresh.dispensedAt);
    setErrors({});
    firstField.current?.focus();
  };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (saving) return;
    const input = toInput(values, { local: defaultAt, iso: null });
    const found = validate(input);
    setSaved(null);
    if (Object.keys(found).length > 0) {
      setErrors(found);
      focusFirstError(found);
      return;
    }
    if (checkDuplicates) {
      const found = await checkDuplicates(input);
      if (found.duplicates.length > 0) return setDuplicate({ ...found, input });
    }
    await store(input);
  }

  async function store(input: DispenseInput) {
    setSaving(true);
    try {
      await save(input);
      setSaved(`Saved: ${input.quantity} ${input.unit} ${input.medicationName} for ${input.patientId}`);
      reset();
    } catch (err) {
      const failed = err instanceof ZodError ? errorsFromIssues(err.issues) : { form: `Not saved: ${(err as Error).message}` };
      setErrors(failed);
      focusFirstError(failed);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form ref={formRef} className="card dispense-form" aria-labelledby="new-dispense-title" noValidate onSubmit={onSubmit}>
      <div className="card-head">
        <h2 id="new-dispense-title">New dispense</h2>
        <p className="muted">Saved on this device at once, sent by the next sync.</p>
      </div>
      <DispenseFields idPrefix="new" values={values} errors={errors} onChange={onChange} firstFieldRef={firstField} />
      {history ? <PatientHistory patientId={values.patientId} lookup={history} username={username} /> : null}
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={saving}>
          Save dispense
        </button>
        <button type="button" onClick={reset}>
          Clear
        </button>
      </div>
      <p className="saved" role="status" aria-live="polite">
        {saved}
      </p>
      {duplicate ? (
        <DuplicateDialog
          duplicates={duplicate.duplicates}
          hours={duplicate.hours}
          offline={duplicate.offline}
          onCancel={() => setDuplicate(null)}
          onConfirm={() => {
            const { input, duplicates, offline } = duplicate;
            setDuplicate(null);
            const note = duplicateNote(duplicates, username, offline);
            void store({ ...input, notes: input.notes ? `${note} ${input.notes}` : note });
          }}
        />
      ) : null}
    </form>
  );
}
