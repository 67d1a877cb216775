/**
 * The site admin's view: the site's devices (newest problems first, as the server sorts them),
 * each with its name, browser, what it holds back and why, and the site's dispensing log for a
 * period as CSV. Both read the server, so both need the network.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { DevicesResponse } from '../../schemas/devices';
import { downloadExport, fetchDevices } from '../data/admin-api';
import { deviceIdOf } from '../data/site';
import { DeviceCard } from './device-card';
import { useNow } from './use-observable';
import './admin.css';
import { FormError, Outcome } from './outcome';

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
      <FormError error={error} />
      {data && devices.length === 0 ? <p className="empty">No device of this site has synced yet.</p> : null}
      {devices.length > 0 ? (
        <ul className="device-list" aria-label="Devices">
          {devices.map((d) => (
            <DeviceCard key={d.deviceId} device={d} serverNow={serverNow} isThis={d.deviceId === thisDevice} token={token} onNamed={named} />
          ))}
        </ul>
      ) : null}
    </section>
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
      <Outcome error={error} message={message} />
    </form>
  );
}
