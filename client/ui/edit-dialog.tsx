/**
 * Correcting a dispense: the same fields as at the counter, checked the same way, and a reason
 * for the change (required, as a void's is; the audit trail keeps it), saved as a new version.
 */
import { useState, type FormEvent } from 'react';
import { ZodError } from 'zod';
import { dispenseShape, FIELD_LABELS, type Dispense } from '../../schemas/dispense';
import type { DispenseInput } from '../data/records';
import { PastDateDialog } from './confirm-dialog';
import { DispenseFields } from './dispense-fields';
import { daysBack, errorsFromIssues, toInput, validate, valuesOf, type FieldErrors, type InputField } from './dispense-input';
import { Modal } from './modal';
import { FormError } from './outcome';

interface Props {
  record: Dispense;
  save: (changes: Partial<DispenseInput>, reason: string) => Promise<unknown>;
  onClose: () => void;
  /** Why the server refused this record, in words: what the correction is for. */
  refusal?: string;
}

type Changes = Partial<DispenseInput>;

export function EditDialog({ record, save, onClose, refusal }: Props) {
  const [values, setValues] = useState(() => valuesOf(record));
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors & { reason?: string }>({});
  const [saving, setSaving] = useState(false);
  const [pastDate, setPastDate] = useState<{ changes: Changes; reason: string; days: number; dispensedAt: string } | null>(null);

  const onChange = (field: InputField, value: string) => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors(({ [field]: _cleared, form: _form, ...rest }) => rest);
  };

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const input = toInput(values, { local: valuesOf(record).dispensedAt, iso: record.dispensedAt });
    // Only what changed, so an Edit opened and saved untouched writes no new version.
    const changes = Object.fromEntries(Object.entries(input).filter(([k, v]) => (v ?? null) !== (record[k as keyof Dispense] ?? null))) as Changes;
    if (Object.keys(changes).length === 0) return onClose();
    const found: FieldErrors & { reason?: string } = validate(input, record);
    const why = dispenseShape.editReason.unwrap().safeParse(reason.trim());
    if (!why.success) found.reason = why.error.issues[0].message;
    if (Object.keys(found).length > 0) {
      setErrors(found);
      form.querySelector<HTMLElement>(`[name="${Object.keys(found).find((k) => k !== 'form')}"]`)?.focus();
      return;
    }
    const days = daysBack(input, record);
    if (days !== null) return setPastDate({ changes, reason: why.data!, days, dispensedAt: input.dispensedAt });
    await store(changes, why.data!);
  }

  async function store(changes: Changes, why: string) {
    setSaving(true);
    try {
      await save(changes, why);
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
        <div className={`field field-reason${errors.reason ? ' has-error' : ''}`}>
          <label htmlFor="edit-reason">
            {FIELD_LABELS.editReason}
            <span className="req" aria-hidden="true">
              {' '}
              *
            </span>
          </label>
          <input
            id="edit-reason"
            name="reason"
            value={reason}
            required
            autoComplete="off"
            aria-invalid={errors.reason ? true : undefined}
            aria-describedby={errors.reason ? 'edit-reason-error' : 'edit-reason-hint'}
            onChange={(e) => {
              setReason(e.target.value);
              setErrors(({ reason: _cleared, form: _form, ...rest }) => rest);
            }}
          />
          {errors.reason ? (
            <p id="edit-reason-error" className="field-error">
              {errors.reason}
            </p>
          ) : (
            <p id="edit-reason-hint" className="hint">
              Kept in the record&apos;s history, e.g. &quot;wrong quantity typed&quot;.
            </p>
          )}
        </div>
        <FormError error={errors.form} />
        <div className="actions">
          <button type="submit" className="primary" disabled={saving}>
            Save changes
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
      {pastDate ? (
        <PastDateDialog
          days={pastDate.days}
          dispensedAt={pastDate.dispensedAt}
          onCancel={() => setPastDate(null)}
          onConfirm={() => {
            const { changes, reason: why } = pastDate;
            setPastDate(null);
            void store(changes, why);
          }}
        />
      ) : null}
    </Modal>
  );
}
