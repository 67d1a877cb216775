/**
 * One record's history, read from the server's audit trail: every version, who made it, on which
 * device, when it reached the server, and what changed, in the form's words. Above it, a version
 * of this device that lost to a newer one from the server (sync/kept.ts): not on the server, kept
 * here, and applied again on request. Offline the server's part says it needs the network; the
 * kept version is on the device and shows anyway.
 */
import { useEffect, useMemo, useState } from 'react';
import { combineLatest, map } from 'rxjs';
import type { AuditEntry } from '../../schemas/api';
import type { Dispense } from '../../schemas/dispense';
import { fetchHistory, type DispenseDetail } from '../data/admin-api';
import type { DispenseDatabase } from '../data/db';
import { editDispense } from '../data/records';
import { forgetKept, keptChanges, keptVersion$ } from '../sync';
import { clockText } from './device-status';
import { fieldLabel, isBookkeeping } from './field-words';
import { Modal } from './modal';
import { useObservable } from './use-observable';
import './admin.css';
import { FormError } from './outcome';

interface Props {
  record: Dispense;
  token: string | null;
  /** The device's records: the kept version is read, and applied, there. */
  db: DispenseDatabase | null;
  onClose: () => void;
}

const ACTIONS: Record<AuditEntry['action'], string> = { create: 'Created', update: 'Edited', void: 'Voided' };
const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const INSTANTS: ReadonlySet<string> = new Set(['dispensedAt', 'duplicateConfirmedAt', 'updatedAt']);

/** A value as the counter reads it: instants in local time, nothing as "(empty)". */
function shown(field: string, v: unknown): string {
  if (v === undefined || v === null || v === '') return '(empty)';
  if (INSTANTS.has(field) && typeof v === 'string') return when.format(new Date(v));
  return String(v);
}

function Changes({ label, fields, before, after, beforeTitle, afterTitle }: ChangesProps) {
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">{beforeTitle}</th>
          <th scope="col">{afterTitle}</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f}>
            <td>{fieldLabel(f)}</td>
            <td>
              <del>{shown(f, before?.[f as keyof Dispense])}</del>
            </td>
            <td>
              <ins>{shown(f, after[f as keyof Dispense])}</ins>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface ChangesProps {
  label: string;
  fields: string[];
  before: Dispense | null;
  after: Dispense;
  beforeTitle: string;
  afterTitle: string;
}

function Version({ entry, n }: { entry: AuditEntry; n: number }) {
  const clock = clockText(entry.clockOffsetMs);
  // The reason is said in a line of its own, not as a change from the last edit's reason.
  const fields = entry.action === 'create' ? [] : entry.changed.filter((f) => !isBookkeeping(f) && f !== 'editReason');
  const reason = entry.action === 'update' ? entry.after.editReason : undefined; // a void's is among its changes
  const confirmed = entry.action === 'create' && entry.after.duplicateConfirmedBy ? entry.after : null;
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
      {reason ? <p className="reason">Reason: {reason}</p> : null}
      {confirmed ? (
        <p className="reason">
          A possible duplicate, dispensed anyway: confirmed by {confirmed.duplicateConfirmedBy}
          {confirmed.duplicateConfirmedAt ? ` at ${when.format(new Date(confirmed.duplicateConfirmedAt))}` : ''}
        </p>
      ) : null}
      {fields.length > 0 ? (
        <Changes
          label={`Changes in version ${n}`}
          fields={fields}
          before={entry.before}
          after={entry.after}
          beforeTitle="Before"
          afterTitle="After"
        />
      ) : entry.action === 'create' ? (
        <p className="meta">
          {entry.after.quantity} {entry.after.unit} {entry.after.medicationName} for {entry.after.patientId}, dispensed{' '}
          {when.format(new Date(entry.after.dispensedAt))}
        </p>
      ) : null}
    </li>
  );
}

/** This device's version that lost to the server's: what it holds that the record does not, and "apply it again". */
function KeptVersion({ db, externalId }: { db: DispenseDatabase; externalId: string }) {
  const both$ = useMemo(
    () =>
      combineLatest([keptVersion$(db.syncmarks, externalId), db.dispenses.findOne(externalId).$]).pipe(
        map(([kept, doc]) => ({ kept, current: doc ? (doc.toJSON() as Dispense) : null })),
      ),
    [db, externalId],
  );
  const { kept, current } = useObservable(both$, { kept: null as Dispense | null, current: null as Dispense | null });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!kept || !current) return null;
  const changes = keptChanges(current, kept);
  const fields = Object.keys(changes);

  /** Applied again (a new edit, later than the server's version: the next sync sends it) or discarded, it is forgotten. */
  async function settle(applied: boolean) {
    setBusy(true);
    setError(null);
    try {
      if (applied && fields.length > 0)
        await editDispense(db, externalId, changes, "This device's version applied again after the server's won a conflict");
      await forgetKept(db.syncmarks, externalId);
    } catch (err) {
      setError(`Not ${applied ? 'applied' : 'discarded'}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }
  const canApply = current.status !== 'voided' && fields.length > 0;

  return (
    <section className="kept" aria-labelledby="kept-title" data-testid="kept-version">
      <h3 id="kept-title">This device&apos;s version: not on the server</h3>
      <p className="meta">
        Saved here {when.format(new Date(kept.updatedAt))}; another device changed the record later, and the server kept that version. Yours is kept
        on this device only.
      </p>
      {fields.length > 0 ? (
        <Changes label="This device's version" fields={fields} before={current} after={kept} beforeTitle="Now" afterTitle="This device's version" />
      ) : (
        <p className="meta">The record holds the same values now.</p>
      )}
      <FormError error={error} />
      {current.status === 'voided' ? <p className="meta">The record was voided since, so this version cannot be applied again.</p> : null}
      <div className="actions">
        {canApply ? (
          <button type="button" className="primary" onClick={() => void settle(true)} disabled={busy}>
            Apply this version again
          </button>
        ) : null}
        <button type="button" onClick={() => void settle(false)} disabled={busy}>
          Discard this version
        </button>
      </div>
    </section>
  );
}

export function HistoryDialog({ record, token, db, onClose }: Props) {
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
        {db ? <KeptVersion db={db} externalId={record.externalId} /> : null}
        <FormError error={error} />
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
