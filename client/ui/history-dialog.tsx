/**
 * One record's history, read from the server's audit trail: every version, who made it, on which
 * device, when it reached the server, and what changed. Offline it says the history needs the network.
 */
import { useEffect, useState } from 'react';
import type { AuditEntry } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { fetchHistory, type DispenseDetail } from '../admin-api';
import { clockText } from './device-status';
import { Modal } from './modal';
import './admin.css';

interface Props {
  record: Dispense;
  token: string | null;
  onClose: () => void;
}

const ACTIONS: Record<AuditEntry['action'], string> = { create: 'Created', update: 'Edited', void: 'Voided' };
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shown = (v: unknown) => (v === undefined || v === null || v === '' ? '(empty)' : String(v));

function Version({ entry, n }: { entry: AuditEntry; n: number }) {
  const clock = clockText(entry.clockOffsetMs);
  const fields = entry.action === 'create' ? [] : entry.changed;
  return (
    <li data-testid="version">
      <h3>
        Version {n}: {ACTIONS[entry.action]} by {entry.actor}
      </h3>
      <p className="meta">
        Reached the server {when.format(new Date(entry.createdAt))} · device{' '}
        <code title={entry.deviceId ?? undefined}>{entry.deviceId ? entry.deviceId.slice(0, 8) : 'unknown'}</code>
        {entry.clockOffsetMs !== null ? ` · device clock ${clock.text}` : null}
      </p>
      {fields.length > 0 ? (
        <table aria-label={`Changes in version ${n}`}>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => (
              <tr key={f}>
                <td>{f}</td>
                <td>
                  <del>{shown(entry.before?.[f as keyof Dispense])}</del>
                </td>
                <td>
                  <ins>{shown(entry.after[f as keyof Dispense])}</ins>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : entry.action === 'create' ? (
        <p className="meta">
          {entry.after.quantity} {entry.after.unit} {entry.after.medicationName} for {entry.after.patientId}, dispensed{' '}
          {when.format(new Date(entry.after.dispensedAt))}
        </p>
      ) : null}
    </li>
  );
}

export function HistoryDialog({ record, token, onClose }: Props) {
  const [detail, setDetail] = useState<DispenseDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fetchHistory(token, record.externalId).then(
      (d) => live && setDetail(d),
      (err: Error) =>
        live && setError(/No such record/.test(err.message) ? 'The server does not hold this record yet: it is sent by the next sync.' : err.message),
    );
    return () => {
      live = false;
    };
  }, [token, record.externalId]);
  const who = record.patientName ? `${record.patientName} (${record.patientId})` : record.patientId;
  return (
    <Modal title={`History of the dispense for ${who}`} titleId="history-title" onClose={onClose} wide>
      <div className="history">
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        {!detail && !error ? <p className="muted">Reading the history from the server…</p> : null}
        {detail ? (
          <>
            <p className="muted">
              {detail.audit.length} version{detail.audit.length === 1 ? '' : 's'} on the server, oldest first.
            </p>
            <ol aria-label="Versions">
              {detail.audit.map((entry, i) => (
                <Version key={entry.id} entry={entry} n={i + 1} />
              ))}
            </ol>
          </>
        ) : null}
      </div>
      <div className="actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
