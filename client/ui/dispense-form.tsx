/**
 * The new-dispense form, built for a counter: type, Tab, Enter. It saves to the device first
 * (sync happens later), then clears and puts the cursor back in the first field. Before a save
 * it asks about what is allowed but unusual: a date far back, a possible duplicate.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ZodError } from 'zod';
import type { Dispense } from '../../schemas/dispense';
import type { CreateOptions, DispenseInput } from '../data/records';
import { useMarkUnsaved } from '../stores/unsaved-work';
import { PastDateDialog } from './confirm-dialog';
import { DispenseFields } from './dispense-fields';
import { DuplicateDialog } from './duplicate-dialog';
import { PatientHistory, type HistoryLookup } from './patient-history';
import { daysBack, emptyValues, errorsFromIssues, toInput, validate, type FieldErrors, type FormValues, type InputField } from './dispense-input';
import { useNow } from './use-observable';
import { FormError } from './outcome';

/** What the duplicate check found for an input: records of the same patient and medication within the window. */
export interface DuplicateCheck {
  duplicates: Dispense[];
  hours: number;
  offline: boolean;
}

interface Props {
  save: (input: DispenseInput, options: CreateOptions) => Promise<unknown>;
  /** The signed-in pharmacist (the history says who made a record when it was another). */
  username: string;
  /** The patient's history under the form, once a patient id is typed. */
  history?: HistoryLookup;
  /** Run before each save: a possible duplicate needs a confirmation, which the record keeps (who, when). */
  checkDuplicates?: (input: DispenseInput) => Promise<DuplicateCheck>;
}

export function DispenseForm({ save, username, history, checkDuplicates }: Props) {
  const [values, setValues] = useState<FormValues>(() => emptyValues());
  // An untouched "Dispensed at" stands for "the moment Save is pressed", and shows the time as it goes on.
  const [atTouched, setAtTouched] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const [pastDate, setPastDate] = useState<{ input: DispenseInput; days: number } | null>(null);
  const [duplicate, setDuplicate] = useState<(DuplicateCheck & { input: DispenseInput }) | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const firstField = useRef<HTMLInputElement>(null);
  const tick = useNow(15_000);
  // Anything typed and not saved holds off a reload for a new version.
  useMarkUnsaved(atTouched || Object.entries(values).some(([field, value]) => field !== 'dispensedAt' && value !== ''));

  // Ready to type as soon as the counter screen opens.
  useEffect(() => firstField.current?.focus(), []);

  // Re-rendered every 15 s (tick), so an untouched time moves on with the clock.
  const shown: FormValues = atTouched || tick === 0 ? values : { ...values, dispensedAt: emptyValues().dispensedAt };

  const onChange = (field: InputField, value: string) => {
    if (field === 'dispensedAt') setAtTouched(true);
    setValues((v) => ({ ...v, [field]: value }));
    setErrors(({ [field]: _cleared, form: _form, ...rest }) => rest);
  };

  const focusFirstError = (found: FieldErrors) => {
    const field = Object.keys(found).find((k) => k !== 'form');
    formRef.current?.querySelector<HTMLElement>(`[name="${field}"]`)?.focus();
  };

  const reset = () => {
    setValues(emptyValues());
    setAtTouched(false);
    setErrors({});
    firstField.current?.focus();
  };

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (saving) return;
    const input = toInput(shown, { local: atTouched ? null : shown.dispensedAt, iso: null });
    const found = validate(input);
    setSaved(null);
    if (Object.keys(found).length > 0) {
      setErrors(found);
      focusFirstError(found);
      return;
    }
    const days = daysBack(input);
    if (days !== null) return setPastDate({ input, days });
    await checkThenStore(input);
  }

  async function checkThenStore(input: DispenseInput) {
    if (checkDuplicates) {
      const found = await checkDuplicates(input);
      if (found.duplicates.length > 0) return setDuplicate({ ...found, input });
    }
    await store(input);
  }

  async function store(input: DispenseInput, options: CreateOptions = {}) {
    setSaving(true);
    try {
      await save(input, options);
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
      <DispenseFields idPrefix="new" values={shown} errors={errors} onChange={onChange} firstFieldRef={firstField} />
      {history ? <PatientHistory patientId={values.patientId} lookup={history} username={username} /> : null}
      <FormError error={errors.form} />
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
      {pastDate ? (
        <PastDateDialog
          days={pastDate.days}
          dispensedAt={pastDate.input.dispensedAt}
          onCancel={() => {
            setPastDate(null);
            formRef.current?.querySelector<HTMLElement>('[name="dispensedAt"]')?.focus();
          }}
          onConfirm={() => {
            const { input } = pastDate;
            setPastDate(null);
            void checkThenStore(input);
          }}
        />
      ) : null}
      {duplicate ? (
        <DuplicateDialog
          duplicates={duplicate.duplicates}
          hours={duplicate.hours}
          offline={duplicate.offline}
          onCancel={() => setDuplicate(null)}
          onConfirm={() => {
            const { input } = duplicate;
            setDuplicate(null);
            void store(input, { duplicateConfirmed: true });
          }}
        />
      ) : null}
    </form>
  );
}
