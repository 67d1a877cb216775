/** What the sync panel reports, each line labelled: the numbers a pharmacist or IT can act on. */
import type { SyncStatusFields } from '../stores/sync-status';
import { inWords } from './field-words';
import { ago, formatWhen, fromNow } from './format';
import { useNow } from './use-observable';

interface Props {
  status: SyncStatusFields;
  stateLabel: string;
  /** Opens the edit dialog of a refused record, to correct it (null: no records open yet). */
  onCorrect: ((externalId: string) => void) | null;
}

export function SyncDetails({ status, stateLabel, onCorrect }: Props) {
  const now = useNow(5_000);
  const s = status;
  const refused = s.rejected.length;
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
        {refused > 0 ? (
          <>
            <dt>Rejected</dt>
            <dd>
              <span data-testid="rejected-count">{refused}</span>
              <span className="muted"> · not sent until corrected</span>
            </dd>
            <dt>Not sent yet</dt>
            <dd data-testid="unsent-count">{s.pendingCount + refused}</dd>
          </>
        ) : null}
        {s.keptCount > 0 ? (
          <>
            <dt>Kept here only</dt>
            <dd data-testid="kept-count">
              {s.keptCount} record{s.keptCount === 1 ? '' : 's'} with this device&apos;s version, replaced by a newer one from the server: see the
              record&apos;s History to apply it again
            </dd>
          </>
        ) : null}
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
      {refused > 0 ? (
        <section className="rejected-list" aria-labelledby="rejected-title">
          <h2 id="rejected-title">Rejected by the server ({refused})</h2>
          <p className="muted">Correct a record and it is sent again with the next sync; a voided one stays voided.</p>
          <ul aria-labelledby="rejected-title">
            {s.rejected.map((r) => {
              const who = r.patientName ? `${r.patientName} (${r.patientId})` : r.patientId;
              return (
                <li key={r.externalId} data-testid="rejected-record">
                  <p className="what">
                    <strong>{r.patientName ?? r.patientId}</strong>
                    {r.patientName ? <span className="muted"> {r.patientId}</span> : null}
                    <span> · {r.medicationName}</span>
                  </p>
                  <p className="muted">
                    Dispensed {formatWhen(r.dispensedAt, now)}
                    {r.voided ? ' · voided' : ''}
                  </p>
                  <p className="reason">{inWords(r.message)}</p>
                  {onCorrect ? (
                    <button type="button" className="small" aria-label={`Correct dispense for ${who}`} onClick={() => onCorrect(r.externalId)}>
                      Correct
                    </button>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </section>
      ) : null}
    </>
  );
}
