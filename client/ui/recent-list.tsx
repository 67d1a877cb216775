/**
 * Recent dispenses on this device, newest first: its own and those the site's other devices
 * sent, each with who dispensed it when it was not the signed-in pharmacist, and where it stands:
 * pending (only here), synced (the server has it) or rejected (with the server's reason in words; a
 * voided one can still be corrected). Only a page is rendered, so a device holding thousands of
 * records still opens at once.
 */
import type { Dispense } from '../../schemas/dispense';
import type { RecordSyncState } from '../sync';
import { inWords } from './field-words';
import { formatWhen } from './format';
import { useNow } from './use-observable';

interface Props {
  dispenses: Dispense[];
  /** The signed-in pharmacist: a record another made (on this device or another of the site) says who. */
  username: string;
  /** null until the rows' sync states have been read: nothing is called synced before that. */
  states: Map<string, RecordSyncState> | null;
  loading: boolean;
  hasMore: boolean;
  onMore: () => void;
  onEdit: (d: Dispense) => void;
  onVoid: (d: Dispense) => void;
  /** Opens the record's history (the server's audit trail). */
  onHistory?: (d: Dispense) => void;
  /** The list's heading and words, when it lists other records than the recent ones (the Find view's results). */
  heading?: ListHeading;
}

export interface ListHeading {
  id: string;
  title: string;
  intro: string;
  empty: string;
  loading: string;
}

const RECENT: ListHeading = {
  id: 'recent-title',
  title: 'Recent dispenses',
  intro: 'Newest first. Records are never deleted: edit a mistake or void it with a reason.',
  empty: 'No dispenses on this device yet.',
  loading: 'Opening the records on this device…',
};

function SyncBadge({ state, known }: { state: RecordSyncState | undefined; known: boolean }) {
  if (!known) return <span className="badge">Checking…</span>;
  const kept = state?.kept ? <span className="code">This device&apos;s version is kept: see History</span> : null;
  if (!state || state.state === 'synced')
    return (
      <>
        <span className="badge ok">Synced</span>
        {kept}
      </>
    );
  if (state.state === 'pending') return <span className="badge pending">Pending</span>;
  return (
    <span className="rejected">
      <span className="badge bad">Rejected</span>
      {state.reason ? <span className="reason">{inWords(state.reason)}</span> : null}
      {kept}
    </span>
  );
}

export function RecentList({ dispenses, username, states, loading, hasMore, onMore, onEdit, onVoid, onHistory, heading = RECENT }: Props) {
  const now = useNow(60_000);
  return (
    <section className="card recent" aria-labelledby={heading.id}>
      <div className="card-head">
        <h2 id={heading.id}>{heading.title}</h2>
        <p className="muted">{heading.intro}</p>
      </div>
      {dispenses.length === 0 ? (
        <p className="empty">{loading ? heading.loading : heading.empty}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Dispensed</th>
              <th scope="col">Patient</th>
              <th scope="col">Medication</th>
              <th scope="col" className="num">
                Quantity
              </th>
              <th scope="col">Sync</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {dispenses.map((d) => {
              const voided = d.status === 'voided';
              const who = d.patientName ? `${d.patientName} (${d.patientId})` : d.patientId;
              return (
                <tr key={d.externalId} className={voided ? 'voided' : undefined} data-external-id={d.externalId}>
                  <td className="when">
                    {formatWhen(d.dispensedAt, now)}
                    {d.dispensedBy !== username ? <span className="code by">by {d.dispensedBy}</span> : null}
                  </td>
                  <td className="patient">
                    <span className="primary-line">{d.patientName ?? d.patientId}</span>
                    {d.patientName ? <span className="code">{d.patientId}</span> : null}
                  </td>
                  <td className="medication">
                    <span className="primary-line med">{d.medicationName}</span>
                    <span className="code">
                      {d.medicationCode}
                      {d.batchNumber ? ` · batch ${d.batchNumber}` : ''}
                    </span>
                    {voided ? <span className="void-note">Voided: {d.voidReason}</span> : null}
                  </td>
                  <td className="num">
                    {d.quantity} {d.unit}
                  </td>
                  <td className="sync">
                    <SyncBadge state={states?.get(d.externalId)} known={states !== null} />
                  </td>
                  <td className="row-actions">
                    {voided && states?.get(d.externalId)?.state === 'rejected' ? (
                      // A voided record the server refused: correcting it is its way out (it stays voided).
                      <button type="button" className="small" aria-label={`Correct dispense for ${who}`} onClick={() => onEdit(d)}>
                        Correct
                      </button>
                    ) : null}
                    {voided ? null : (
                      <>
                        <button type="button" className="small" aria-label={`Edit dispense for ${who}`} onClick={() => onEdit(d)}>
                          Edit
                        </button>
                        <button type="button" className="small danger" aria-label={`Void dispense for ${who}`} onClick={() => onVoid(d)}>
                          Void
                        </button>
                      </>
                    )}
                    {onHistory ? (
                      <button type="button" className="small" aria-label={`History of dispense for ${who}`} onClick={() => onHistory(d)}>
                        History
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {hasMore ? (
        <button type="button" className="more" onClick={onMore}>
          Show older dispenses
        </button>
      ) : null}
    </section>
  );
}
