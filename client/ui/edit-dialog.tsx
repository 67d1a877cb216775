/** Correcting a dispense: the same fields as at the counter, checked the same way, saved as a new version. */
import { useState, type FormEvent } from 'react';
import { ZodError } from 'zod';
import type { Dispense } from '../../schemas/dispense';
import type { DispenseInput } from '../records';
import { DispenseFields } from './dispense-fields';
import { errorsFromIssues, toInput, validate, valuesOf, type FieldErrors, type InputField } from './dispense-input';
import { Modal } from './modal';

interface Props {
  record: Dispense;
  save: (changes: Partial<DispenseInput>) => Promise<unknown>;
  onClose: () => void;
  /** Why the server refused this record, in words: what the correction is for. */
  refusal?: string;
}

export function EditDialog({ record, save, onClose, refusal }: Props) {
  const [values, setValues] = useState(() => valuesOf(record));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);

  const onChange = (field: InputField, value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors(({ [field]: _cleared, form: _form, ...rest }) => rest);
  };

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const input = toInput(values, { local: valuesOf(record).dispensedAt, iso: record.dispensedAt });
    const found = validate(input, record);
    if (Object.keys(found).length > 0) {
      setErrors(found);
      form.querySelector<HTMLElement>(`[name="${Object.keys(found).find((k) => k !== 'form')}"]`)?.focus();
      return;
    }
    // Only what changed, so an Edit opened and saved untouched writes no new version.
    const changes = Object.fromEntries(
      Object.entries(input).filter(([k, v]) => (v ?? null) !== (record[k as keyof Dispense] ?? null)),
    ) as Partial<DispenseInput>;
    if (Object.keys(changes).length === 0) return onClose();
    setSaving(true);
    try {
      await save(changes);
      onClose();
    } catch (err) {
      setErrors(err instanceof ZodError ? errorsFromIssues(err.issues) : { form: `Not saved: ${(err as Error).message}` });
      setSaving(false);
    }
  }

  return (
    <Modal title={`Edit dispense for ${record.patientId}`} titleId="edit-title" onClose={onClose} wide>
      <form noValidate onSubmit={onSubmit} aria-labelledby="edit-title">
        {refusal ? (
          <p className="notice" data-testid="edit-refusal">
            The server refused this record: {refusal}
            {record.status === 'voided' ? ' Once corrected it is sent again, and stays voided.' : ''}
          </p>
        ) : null}
        <DispenseFields idPrefix="edit" values={values} errors={errors} onChange={onChange} />
        {errors.form ? (
          <p className="form-error" role="alert">
            {errors.form}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={saving}>
            Save changes
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
