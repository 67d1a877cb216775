/**
 * Signing out says what stays on this device. With nothing unsent, it also offers to remove the
 * site's records from the device (a shared or borrowed machine); with records unsent it keeps
 * them, says how many, and offers no removal.
 */
import { useSyncStatus } from '../stores/sync-status';
import { Modal } from './modal';

interface Props {
  siteId: string;
  onSignOut: (removeData: boolean) => void;
  onClose: () => void;
}

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

export function SignOutDialog({ siteId, onSignOut, onClose }: Props) {
  const { countsKnown, pendingCount, rejected } = useSyncStatus();
  const unsent = pendingCount + rejected.length;
  let text: string;
  if (!countsKnown) text = 'Still counting what this device holds for the server. Records made here stay on this device.';
  else if (unsent > 0) {
    const why = [
      pendingCount > 0 ? `${pendingCount} waiting to be sent` : null,
      rejected.length > 0 ? `${rejected.length} refused by the server` : null,
    ];
    text =
      `${records(unsent)} made here ${unsent === 1 ? 'has' : 'have'} not reached the server (${why.filter(Boolean).join(', ')}). ` +
      `${unsent === 1 ? 'It stays' : 'They stay'} on this device and ${unsent === 1 ? 'is' : 'are'} sent after a user of site ${siteId} signs in here again.`;
  } else text = `Every record made on this device has reached the server.`;
  const canRemove = countsKnown && unsent === 0;

  return (
    <Modal title="Sign out" titleId="sign-out-title" onClose={onClose}>
      <p data-testid="sign-out-summary">{text}</p>
      {canRemove ? (
        <>
          <p className="muted">
            On a shared or borrowed computer, you can also remove this site&apos;s records from this device. The server keeps them.
          </p>
          <div className="actions">
            <button type="button" className="danger" onClick={() => onSignOut(true)}>
              Sign out and remove this site&apos;s data from this device
            </button>
          </div>
        </>
      ) : null}
      <div className="actions">
        <button type="button" className="primary" autoFocus onClick={() => onSignOut(false)}>
          Sign out
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
