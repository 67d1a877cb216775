/**
 * The site admin's view: which devices of the site hold records the server lacks (newest
 * problems first, as the server sorts them), and the site's dispensing log for a period as CSV.
 * Both read the server, so both need the network.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { DevicesResponse } from '../../schemas/devices';
import { downloadExport, fetchDevices } from '../admin-api';
import { deviceIdOf } from '../site';
import { clockText, deviceStatus } from './device-status';
import { ago, formatWhen } from './format';
import './admin.css';

interface Props {
  token: string | null;
  siteId: string;
}

export function AdminView({ token, siteId }: Props) {
  return (
    <main className="admin-view">
      <DevicesCard token={token} siteId={siteId} />
      <ExportCard token={token} />
    </main>
  );
}

function DevicesCard({ token, siteId }: Props) {
  const [data, setData] = useState<DevicesResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Each Refresh asks again; the answer says which request it answers, so "Refreshing…" is exact.
  const [request, setRequest] = useState(0);
  const [answered, setAnswered] = useState(-1);
  useEffect(() => {
    let live = true;
    fetchDevices(token).then(
      (d) => {
        if (!live) return;
        setData(d);
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
  const serverNow = data ? Date.parse(data.serverTime) : 0;

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
      {data && data.devices.length === 0 ? <p className="empty">No device of this site has synced yet.</p> : null}
      {data && data.devices.length > 0 ? (
        <div className="table-scroll">
          <table aria-label="Devices">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Status</th>
                <th scope="col">Last user</th>
                <th scope="col" className="num">
                  Made / on server
                </th>
                <th scope="col">Oldest pending</th>
                <th scope="col">Last seen</th>
                <th scope="col">Last push</th>
                <th scope="col">Clock</th>
                <th scope="col">App</th>
              </tr>
            </thead>
            <tbody>
              {data.devices.map((d) => {
                const status = deviceStatus(d, serverNow);
                const clock = clockText(d.clockOffsetMs);
                return (
                  <tr key={d.deviceId} data-device-id={d.deviceId} className={status.tone === 'bad' ? 'problem' : undefined}>
                    <td>
                      <code title={d.deviceId}>{d.deviceId.slice(0, 8)}</code>
                      {d.deviceId === thisDevice ? <span className="muted"> (this device)</span> : null}
                      <span className="code">since {formatWhen(d.firstSeenAt, serverNow)}</span>
                    </td>
                    <td>
                      <span className={`badge ${status.tone}`} data-testid="device-status">
                        {status.text}
                      </span>
                    </td>
                    <td>{d.lastUser}</td>
                    <td className="num">
                      {d.madeCount ?? '?'} / {d.serverHolds}
                    </td>
                    <td>{d.oldestPendingAt ? ago(d.oldestPendingAt, serverNow) : '—'}</td>
                    <td title={d.lastSeenAt}>{ago(d.lastSeenAt, serverNow)}</td>
                    <td title={d.lastPushAt ?? undefined}>{d.lastPushAt ? ago(d.lastPushAt, serverNow) : 'never'}</td>
                    <td className={clock.warn ? 'warn-text' : undefined} data-testid="device-clock">
                      {clock.text}
                    </td>
                    <td>{d.appVersion ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** `YYYY-MM-DD` of a local day. */
const dayText = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
/** Local midnight of a `YYYY-MM-DD`, `plusDays` later. */
const localDay = (text: string, plusDays = 0) => {
  const [y, m, d] = text.split('-').map(Number);
  return new Date(y, m - 1, d + plusDays);
};

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
      // The days are this device's local days; the last one is included.
      const name = await downloadExport(token, localDay(from), localDay(to, 1));
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
