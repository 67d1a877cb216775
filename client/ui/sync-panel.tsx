/**
 * The sync panel in the header: a one-line summary that never says "synced" while anything is
 * pending, expanding into the whole truth (state, pending count and age, last sync, last result,
 * errors, rejected records with a way to correct each) and the controls: "Auto sync", "Sync interval", "Sync now".
 */
import { useEffect, useRef, useState } from 'react';
import { useSession } from '../stores/session';
import { useSyncStatus } from '../stores/sync-status';
import { StorageStatus } from './storage-status';
import { SyncControls } from './sync-controls';
import { SyncDetails } from './sync-details';
import { STATE_LABEL, summary } from './sync-summary';

interface Props {
  syncNow: (() => Promise<void>) | null;
  /** False until the local counts have been read once: until then they are unknown. */
  countsKnown: boolean;
  onSignInAgain: () => void;
  /** Opens a refused record's edit dialog, to correct it. */
  onCorrect?: ((externalId: string) => void) | null;
}

export function SyncPanel({ syncNow, countsKnown, onSignInAgain, onCorrect = null }: Props) {
  const [open, setOpen] = useState(false);
  const status = useSyncStatus();
  const offlineSession = useSession((s) => s.offline);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);

  // Like any drop-down: a click elsewhere or Escape closes it; Escape from inside it goes back to the toggle.
  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      if (root.current?.contains(document.activeElement)) toggle.current?.focus();
      setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  return (
    <div ref={root} className={`sync-panel state-${status.state}`}>
      <button
        ref={toggle}
        type="button"
        className="sync-toggle"
        aria-expanded={open}
        aria-controls="sync-panel-body"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="dot" aria-hidden="true" />
        <span className="sr-only">Sync status: </span>
        <span data-testid="sync-summary">{summary(status, countsKnown)}</span>
        <span className="chevron" aria-hidden="true">
          {open ? '▴' : '▾'}
        </span>
      </button>
      <section id="sync-panel-body" className="sync-body" aria-label="Sync" hidden={!open}>
        {offlineSession ? (
          <div className="notice" role="alert" data-testid="needs-online-sign-in">
            Signed in on this device only: an online sign-in is needed before anything is sent. Records stay on this device until then.
          </div>
        ) : status.needsSignIn ? (
          <div className="notice" role="alert">
            The server no longer accepts this session. Records stay on this device until you sign in again.
            <button type="button" className="small" onClick={onSignInAgain}>
              Sign in again
            </button>
          </div>
        ) : null}
        <SyncDetails
          status={status}
          stateLabel={STATE_LABEL[status.state]}
          onCorrect={
            onCorrect
              ? (id) => {
                  setOpen(false);
                  onCorrect(id);
                }
              : null
          }
        />
        {status.state === 'offline' ? (
          <p className="muted">No connection to the server: records are kept on this device and sent when it is back.</p>
        ) : null}
        <SyncControls syncNow={syncNow} syncing={status.state === 'syncing'} />
        <StorageStatus />
        {!status.isLeader ? (
          <p className="muted small-print">Another tab of this browser is sending the records; this one shows its progress.</p>
        ) : null}
      </section>
    </div>
  );
}
