/**
 * Before a possible duplicate is saved: what was dispensed to the same patient, of the same
 * medication, within the site's window. The pharmacist may go on, and the record keeps who
 * confirmed it and when, in fields of their own.
 */
import type { Dispense } from '../../schemas/dispense';
import { Modal } from './modal';

interface Props {
  duplicates: Dispense[];
  hours: number;
  /** The check used only what this device holds (no network). */
  offline: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function DuplicateDialog({ duplicates, hours, offline, onConfirm, onCancel }: Props) {
  return (
    <Modal title="Possible duplicate dispense" titleId="duplicate-title" onClose={onCancel}>
      <p>
        This patient was given the same medication within the last {hours} hours
        {offline ? ' (checked against the records on this device only: no network)' : ''}:
      </p>
      <ul className="duplicates">
        {duplicates.map((d) => (
          <li key={d.externalId}>
            {new Date(d.dispensedAt).toLocaleString()}: {d.quantity} {d.unit} {d.medicationName} ({d.medicationCode}), by {d.dispensedBy}
          </li>
        ))}
      </ul>
      <p className="muted">If you dispense again, the record keeps that you confirmed it, and when.</p>
      {/* "Go back" first: the dialog opens on it, so an Enter meant for the form does not confirm. */}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Go back
        </button>
        <button type="button" className="primary danger" onClick={onConfirm}>
          Dispense anyway
        </button>
      </div>
    </Modal>
  );
}
