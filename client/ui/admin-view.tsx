/**
 * The site admin's view: the site's devices (newest problems first, as the server sorts them),
 * each with its name, browser, what it holds back and why, and the site's dispensing log for a
 * period as CSV. Both read the server, so both need the network.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { MAX_DEVICE_NAME, type Device, type DevicesResponse } from '../../schemas/devices';
import { downloadExport, fetchDevices, renameDevice } from '../admin-api';
import { deviceIdOf } from '../site';
import { clockText, deviceStatus } from './device-status';
import { inWords } from './field-words';
import { ago, formatWhen } from './format';
import { useNow } from './use-observable';
import './admin.css';

interface Props {
  token: string | null;
  siteId: string;
}

export function AdminView({ token, siteId }: Props) {
  return (
    <main className="admin-view">
      <h1 className="sr-only">Admin of site {siteId}</h1>
      <DevicesCard token={token} siteId={siteId} />
      <ExportCard token={token} />
    </main>
  );
}

function DevicesCard({ token, siteId }: Props) {
  const [data, setData] = useState<{ answer: DevicesResponse; receivedAt: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Each Refresh asks again; the answer says which request it answers, so "Refreshing…" is exact.
  const [request, setRequest] = useState(0);
  const [answered, setAnswered] = useState(-1);
  useEffect(() => {
    let live = true;
    fetchDevices(token).then(
      (d) => {
        if (!live) return;
        setData({ answer: d, receivedAt: Date.now() });
        setError(null);
        setAnswered(request);
      },
      (err: Error) => {
        if (!live) return;
        setError(err.message);
        setAnswered(request);
      },
    );
    return () => {
      live = false;
    };
  }, [token, request]);
  const loading = answered !== request;
  const thisDevice = deviceIdOf(siteId);
  // "Seen 3 minutes ago" moves on by itself: the server's clock at the answer, plus the time since.
  const now = useNow(15_000);
  const serverNow = data ? Date.parse(data.answer.serverTime) + Math.max(0, now - data.receivedAt) : 0;
  const devices = data?.answer.devices ?? [];
  const named = (id: string, name: string | null) =>
    setData((d) => d && { ...d, answer: { ...d.answer, devices: d.answer.devices.map((x) => (x.deviceId === id ? { ...x, name } : x)) } });

  return (
    <section className="card devices" aria-labelledby="devices-title">
      <div className="card-head row">
        <div>
          <h2 id="devices-title">Devices of site {siteId}</h2>
          <p className="muted">
            Each device reports after its syncs. All delivered: it reports nothing pending, and the server holds every record it made.
          </p>
        </div>
        <button type="button" onClick={() => setRequest((r) => r + 1)} disabled={loading}>
          {loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      {data && devices.length === 0 ? <p className="empty">No device of this site has synced yet.</p> : null}
      {devices.length > 0 ? (
        <ul className="device-list" aria-label="Devices">
          {devices.map((d) => (
            <DeviceItem key={d.deviceId} device={d} serverNow={serverNow} isThis={d.deviceId === thisDevice} token={token} onNamed={named} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

interface ItemProps {
  device: Device;
  serverNow: number;
  isThis: boolean;
  token: string | null;
  onNamed: (deviceId: string, name: string | null) => void;
}

function DeviceItem({ device: d, serverNow, isThis, token, onNamed }: ItemProps) {
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

/** `YYYY-MM-DD` of a local day. */
const dayText = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/** Local midnight of a `YYYY-MM-DD`, `plusDays` later, as an ISO date-time with this device's offset at that moment. */
function localMidnight(text: string, plusDays = 0): string {
  const [y, m, d] = text.split('-').map(Number);
  const day = new Date(y, m - 1, d + plusDays);
  const east = -day.getTimezoneOffset();
  const hhmm = `${String(Math.floor(Math.abs(east) / 60)).padStart(2, '0')}:${String(Math.abs(east) % 60).padStart(2, '0')}`;
  return `${dayText(day)}T00:00:00${east < 0 ? '-' : '+'}${hhmm}`;
}

function ExportCard({ token }: { token: string | null }) {
  const today = new Date();
  const [from, setFrom] = useState(() => dayText(new Date(today.getFullYear(), today.getMonth(), 1)));
  const [to, setTo] = useState(() => dayText(today));
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    setError(null);
    if (!from || !to) return setError('Choose the first and the last day.');
    setBusy(true);
    try {
      // The days are this device's local days; the last one is included (the server's `to` is the next midnight).
      const name = await downloadExport(token, localMidnight(from), localMidnight(to, 1));
      setMessage(`Downloaded ${name}`);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card export" aria-labelledby="export-title" onSubmit={onSubmit} noValidate>
      <div className="card-head">
        <h2 id="export-title">Dispensing log</h2>
        <p className="muted">The site&apos;s records dispensed in the period, as a CSV file for a spreadsheet (at most a year).</p>
      </div>
      <div className="period">
        <label>
          From
          <input type="date" name="from" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </label>
        <label>
          To (included)
          <input type="date" name="to" value={to} onChange={(e) => setTo(e.target.value)} required />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Preparing…' : 'Download CSV'}
        </button>
      </div>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="saved" role="status">
        {message}
      </p>
    </form>
  );
}
