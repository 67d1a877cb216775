/**
 * "Update available": a new version is installed and waits. Updating reloads the page, so it is
 * offered only while no dispense is half entered and no dialog is open; records on the device are
 * kept (and migrated if the new version stores them differently, db.ts).
 */
import { applyUpdate, useAppUpdate } from './service-worker';
import { useUnsavedWork } from '../stores/unsaved-work';
import './offline.css';

export function UpdatePrompt() {
  const { updateWaiting, reloadPending, busyElsewhere } = useAppUpdate();
  const unsaved = useUnsavedWork((s) => s.holders.length > 0);
  if (!updateWaiting && !reloadPending) return null;
  return (
    <section className="update-prompt" aria-label="Update available">
      <strong>Update available.</strong>
      <span>{reloadPending ? 'Updating…' : 'A new version of SEMS Dispense is ready. Records on this device are kept.'}</span>
      <button type="button" className="primary small" disabled={unsaved || reloadPending} onClick={() => void applyUpdate()}>
        Update now
      </button>
      {unsaved ? (
        <span className="why" role="status">
          {reloadPending
            ? 'The app reloads into the new version once the dispense being entered is saved or cleared.'
            : 'Save or clear the dispense being entered first: updating reloads the app.'}
        </span>
      ) : busyElsewhere ? (
        <span className="why" role="status">
          Another tab of SEMS Dispense in this browser has a dispense being entered or a dialog open: finish it there, then update.
        </span>
      ) : null}
    </section>
  );
}
