/** The sync settings (persisted by their store) and "Sync now", each with an accessible name. */
import { useState } from 'react';
import { SYNC_INTERVALS, useSyncSettings } from '../stores/sync-settings';

interface Props {
  syncNow: (() => Promise<void>) | null;
  syncing: boolean;
}

export function SyncControls({ syncNow, syncing }: Props) {
  const { enabled, intervalSeconds, setEnabled, setIntervalSeconds } = useSyncSettings();
  const [intervalError, setIntervalError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);

  const runNow = async () => {
    if (!syncNow) return;
    setRunning(true);
    try {
      await syncNow();
    } finally {
      setRunning(false);
    }
  };

  return (
    <div className="sync-controls">
      <label className="switch">
        <span className="switch-box">
          <input type="checkbox" role="switch" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
          <span className="track" aria-hidden="true" />
        </span>
        Auto sync
      </label>
      <div className="interval">
        <label htmlFor="sync-interval">Sync interval</label>
        <select
          id="sync-interval"
          value={intervalSeconds}
          aria-invalid={intervalError ? true : undefined}
          aria-describedby={intervalError ? 'sync-interval-error' : undefined}
          onChange={(e) => setIntervalError(setIntervalSeconds(Number(e.target.value)))}
        >
          {SYNC_INTERVALS.map((i) => (
            <option key={i.seconds} value={i.seconds}>
              {i.label}
            </option>
          ))}
        </select>
        {intervalError ? (
          <p id="sync-interval-error" className="field-error">
            {intervalError}
          </p>
        ) : null}
      </div>
      <button type="button" className="primary" onClick={runNow} disabled={!syncNow || running} aria-busy={running || syncing}>
        Sync now
      </button>
    </div>
  );
}
