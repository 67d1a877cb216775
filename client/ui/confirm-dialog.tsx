/** A question before a save that is allowed but unusual: "Go back" is first and focused, so an Enter meant for the form does not confirm. */
import type { ReactNode } from 'react';
import { Modal } from './modal';

interface Props {
  title: string;
  titleId: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, titleId, children, confirmLabel, onConfirm, onCancel }: Props) {
  return (
    <Modal title={title} titleId={titleId} onClose={onCancel}>
      {children}
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Go back
        </button>
        <button type="button" className="primary" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

/** The question for a dispense dated far back: a late entry from a paper register is legitimate, a wrong day is not. */
export function PastDateDialog({
  days,
  dispensedAt,
  onConfirm,
  onCancel,
}: {
  days: number;
  dispensedAt: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(new Date(dispensedAt));
  return (
    <ConfirmDialog
      title="Dispensed that long ago?"
      titleId="past-date-title"
      confirmLabel="Save with this date"
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p>
        The dispense is dated <strong>{when}</strong>, {days} days ago. Keep this date only for a late entry, for example from a paper register kept
        during an outage.
      </p>
    </ConfirmDialog>
  );
}
