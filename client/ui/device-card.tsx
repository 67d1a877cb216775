/**
 * One device in the site admin's list: its name (the admin may change it), the browser and system
 * it runs, its status in words, its figures, and the records it holds back with the server's
 * reason. Times are relative to the server's clock as the list moves it on.
 */
import { useState, type FormEvent } from 'react';
import { MAX_DEVICE_NAME, type Device } from '../../schemas/devices';
import { renameDevice } from '../data/admin-api';
import { clockText, deviceStatus } from './device-status';
import { inWords } from './field-words';
import { ago, formatWhen } from './format';

interface Props {
  device: Device;
  serverNow: number;
  isThis: boolean;
  token: string | null;
  onNamed: (deviceId: string, name: string | null) => void;
}

export function DeviceCard({ device: d, serverNow, isThis, token, onNamed }: Props) {
  const status = deviceStatus(d, serverNow);
  const clock = clockText(d.clockOffsetMs);
  const short = d.deviceId.slice(0, 8);
  const title = d.name ?? `Device ${short}`;
  const [renaming, setRenaming] = useState(false);
  return (
    <li data-device-id={d.deviceId} className={`device${status.tone === 'bad' ? ' problem' : ''}`}>
      <div className="device-head">
        <div className="device-name">
          <h3 data-testid="device-name">{title}</h3>
          <p className="muted">
            <span data-testid="device-browser">{d.browser ?? 'Browser not known yet'}</span>
            {' · '}
            <code title={d.deviceId}>{short}</code>
            {isThis ? ' (this device)' : null}
          </p>
        </div>
        <span className={`badge ${status.tone}`} data-testid="device-status">
          {status.text}
        </span>
      </div>
      {renaming ? (
        <RenameForm
          device={d}
          token={token}
          onDone={(name) => {
            if (name !== undefined) onNamed(d.deviceId, name);
            setRenaming(false);
          }}
        />
      ) : (
        <button type="button" className="small" aria-label={`Rename ${title}`} onClick={() => setRenaming(true)}>
          Rename
        </button>
      )}
      <dl className="device-facts">
        <div>
          <dt>Last user</dt>
          <dd>{d.lastUser}</dd>
        </div>
        <div>
          <dt>Made / on server</dt>
          <dd>
            {d.madeCount ?? '?'} / {d.serverHolds}
          </dd>
        </div>
        <div>
          <dt>Oldest pending</dt>
          <dd>{d.oldestPendingAt ? ago(d.oldestPendingAt, serverNow) : '—'}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd title={d.lastSeenAt} data-testid="device-seen">
            {ago(d.lastSeenAt, serverNow)}
          </dd>
        </div>
        <div>
          <dt>Last push</dt>
          <dd title={d.lastPushAt ?? undefined}>{d.lastPushAt ? ago(d.lastPushAt, serverNow) : 'never'}</dd>
        </div>
        <div>
          <dt>Clock</dt>
          <dd className={clock.warn ? 'warn-text' : undefined} data-testid="device-clock">
            {clock.text}
          </dd>
        </div>
        <div>
          <dt>App</dt>
          <dd>{d.appVersion ?? '—'}</dd>
        </div>
        <div>
          <dt>First seen</dt>
          <dd>{formatWhen(d.firstSeenAt, serverNow)}</dd>
        </div>
      </dl>
      {d.refused.length > 0 ? <HeldBackList device={d} title={title} serverNow={serverNow} /> : null}
    </li>
  );
}

/** The records the server refused that the device holds back, and why: what its pharmacist must correct. */
function HeldBackList({ device: d, title, serverNow }: { device: Device; title: string; serverNow: number }) {
  const more = (d.refusedCount ?? d.refused.length) - d.refused.length;
  return (
    <div className="held-back">
      <h4>Refused by the server: held on the device until corrected at its counter</h4>
      <ul aria-label={`Records ${title} holds back`}>
        {d.refused.map((r) => (
          <li key={r.externalId} data-testid="held-back-record">
            <p>
              <strong>{r.patientName ?? r.patientId}</strong>
              {r.patientName ? <span className="muted"> {r.patientId}</span> : null} · {r.medicationName} · dispensed{' '}
              {formatWhen(r.dispensedAt, serverNow)}
              {r.voided ? ' · voided' : ''}
            </p>
            <p className="reason">{inWords(r.reason)}</p>
          </li>
        ))}
      </ul>
      {more > 0 ? <p className="muted">and {more} more.</p> : null}
    </div>
  );
}

/** `onDone(name)`: saved (null: name removed); `onDone(undefined)`: cancelled. */
function RenameForm({ device, token, onDone }: { device: Device; token: string | null; onDone: (name?: string | null) => void }) {
  const [name, setName] = useState(device.name ?? '');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const id = `name-${device.deviceId}`;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      const saved = await renameDevice(token, device.deviceId, name);
      onDone(saved.name);
    } catch (err) {
      setError((err as Error).message);
      setSaving(false);
    }
  }

  return (
    <form className="rename" onSubmit={onSubmit} noValidate>
      <label htmlFor={id}>Name of device {device.deviceId.slice(0, 8)}</label>
      <input
        id={id}
        value={name}
        maxLength={MAX_DEVICE_NAME}
        autoFocus
        autoComplete="off"
        placeholder="e.g. Counter 2, front desk"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.preventDefault();
          onDone();
        }}
      />
      <button type="submit" className="small primary" disabled={saving}>
        Save name
      </button>
      <button type="button" className="small" onClick={() => onDone()}>
        Cancel
      </button>
      {error ? (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
