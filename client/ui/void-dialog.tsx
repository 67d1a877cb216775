/** Voiding a dispense: the record stays (the audit trail keeps it) and carries the reason. */
import { useState, type FormEvent } from 'react';
import { dispenseShape, type Dispense } from '../../schemas/dispense';
import { Modal } from './modal';

interface Props {
  record: Dispense;
  save: (reason: string) => Promise<unknown>;
  onClose: () => void;
}

export function VoidDialog({ record, save, onClose }: Props) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = dispenseShape.voidReason.unwrap().safeParse(reason.trim());
    if (!parsed.success) {
      setError(parsed.error.issues[0].message);
      return;
    }
    setSaving(true);
    try {
      await save(parsed.data);
      onClose();
    } catch (err) {
      setError(`Not voided: ${(err as Error).message}`);
      setSaving(false);
    }
  }

  return (
    <Modal title="Void dispense" titleId="void-title" onClose={onClose}>
      <p>
        {record.quantity} {record.unit} {record.medicationName} for {record.patientName ?? record.patientId}. The record is kept and marked void; the
        reason goes to the audit trail.
      </p>
      <form noValidate onSubmit={onSubmit} aria-labelledby="void-title">
        <label htmlFor="void-reason">Reason for voiding</label>
        <input
          id="void-reason"
          value={reason}
          autoFocus
          maxLength={500}
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'void-reason-error' : undefined}
          onChange={(e) => {
            setReason(e.target.value);
            setError(null);
          }}
        />
        {error ? (
          <p id="void-reason-error" className="field-error">
            {error}
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary danger" disabled={saving}>
            Void dispense
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
