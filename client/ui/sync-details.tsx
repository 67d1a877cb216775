/** What the sync panel reports, each line labelled: the numbers a pharmacist or IT can act on. */
import type { SyncStatusFields } from '../stores/sync-status';
import { ago, formatWhen, fromNow } from './format';
import { useNow } from './use-observable';

export function SyncDetails({ status, stateLabel }: { status: SyncStatusFields; stateLabel: string }) {
  const now = useNow(5_000);
  const s = status;
  return (
    <>
      <dl className="sync-facts">
        <dt>State</dt>
        <dd data-testid="sync-state">{stateLabel}</dd>
        <dt>Pending</dt>
        <dd>
          <span data-testid="pending-count">{s.pendingCount}</span>
          {s.pendingCount > 0 && s.oldestPendingAt ? <span className="muted"> · oldest saved {ago(s.oldestPendingAt, now)}</span> : null}
        </dd>
        <dt>Last successful sync</dt>
        <dd data-testid="last-sync">{s.lastSyncAt ? `${formatWhen(s.lastSyncAt, now)} (${ago(s.lastSyncAt, now)})` : 'Not yet'}</dd>
        <dt>Last run</dt>
        <dd data-testid="last-result">{s.lastResult ?? '—'}</dd>
        {s.lastError ? (
          <>
            <dt>Last error</dt>
            <dd className="error-text" data-testid="last-error">
              {s.lastError}
              {s.nextTryAt ? <span className="muted"> · next try {fromNow(s.nextTryAt, now)}</span> : null}
            </dd>
          </>
        ) : s.nextTryAt ? (
          <>
            <dt>Next sync</dt>
            <dd>{fromNow(s.nextTryAt, now)}</dd>
          </>
        ) : null}
      </dl>
      {s.rejected.length > 0 ? (
        <div className="rejected-list">
          <h3>Rejected by the server ({s.rejected.length})</h3>
          <p className="muted">Edit a record to correct it; it is sent again with the next sync.</p>
          <ul>
            {s.rejected.map((r) => (
              <li key={r.externalId}>
                <code>{r.externalId.slice(0, 8)}</code> {r.message}
                {r.code === 'clock_ahead' ? <span className="muted"> It stays on this device until its time is corrected.</span> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </>
  );
}
