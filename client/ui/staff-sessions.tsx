/**
 * The Staff tab's sessions and lost devices: who is signed in where (end one session), and the
 * site's devices, any of which can be revoked when lost (every session on it ends; it can neither
 * sign in nor sync until restored) while the unsent records it last reported stay shown.
 */
import type { Device } from '../../schemas/devices';
import type { Session } from '../../schemas/staff';
import { fetchDevices } from '../data/admin-api';
import { deviceIdOf } from '../data/site';
import { endSession, fetchSessions, setDeviceRevoked } from '../data/staff-api';
import { ago } from './format';
import { staffFailure } from './staff-failure';
import { FormError } from './outcome';
import { useAction, useLoaded } from './use-action';

interface Props {
  token: string | null;
  siteId: string;
  version: number;
  onChanged: () => void;
}

const shortId = (id: string | null) => (id ? id.slice(0, 8) : 'not known');

export function StaffSessions({ token, siteId, version, onChanged }: Props) {
  const loaded = useLoaded(() => Promise.all([fetchSessions(token), fetchDevices(token)]), [token, version], staffFailure);
  const [sessions, devices]: [Session[] | null, Device[] | null] = loaded.data ? [loaded.data[0], loaded.data[1].devices] : [null, null];
  const readAt = loaded.readAt;
  const { pending: busy, error, run } = useAction(staffFailure);
  const thisDevice = deviceIdOf(siteId);

  async function act(call: () => Promise<void>) {
    if (await run(call)) onChanged();
  }

  return (
    <section className="card staff-sessions" aria-labelledby="sessions-title">
      <div className="card-head">
        <h2 id="sessions-title">Who is signed in</h2>
        <p className="muted">Ending a session signs that person out on that device at its next contact with the server.</p>
      </div>
      <FormError error={error ?? loaded.error} />
      {sessions && sessions.length === 0 ? <p className="empty">Nobody is signed in.</p> : null}
      {sessions && sessions.length > 0 ? (
        <div className="table-scroll">
          <table aria-label="Sessions">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Device</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last seen</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id}>
                  <td>
                    {s.displayName}
                    <span className="code">{s.username}</span>
                  </td>
                  <td>
                    <code title={s.deviceId ?? undefined}>{shortId(s.deviceId)}</code>
                    {s.deviceId === thisDevice ? <span className="muted"> (this device)</span> : null}
                  </td>
                  <td>{ago(s.startedAt, readAt)}</td>
                  <td>{ago(s.lastSeenAt, readAt)}</td>
                  <td className="row-actions">
                    {s.current ? (
                      <span className="muted">This session</span>
                    ) : (
                      <button
                        type="button"
                        className="small"
                        disabled={busy}
                        aria-label={`End session ${s.username} on device ${shortId(s.deviceId)}`}
                        onClick={() => act(() => endSession(token, s.id))}
                      >
                        End session
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      <h3 id="lost-devices-title">Lost devices</h3>
      <p className="muted">A revoked device can neither sign in nor sync; the records it had not sent stay on it, counted below.</p>
      {devices && devices.length === 0 ? <p className="empty">No device of this site has synced yet.</p> : null}
      {devices && devices.length > 0 ? (
        <div className="table-scroll">
          <table aria-labelledby="lost-devices-title">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Last user</th>
                <th scope="col">Last seen</th>
                <th scope="col">Not sent</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {devices.map((d) => (
                <tr key={d.deviceId} data-device-id={d.deviceId}>
                  <td>
                    <code title={d.deviceId}>{shortId(d.deviceId)}</code>
                    {d.deviceId === thisDevice ? <span className="muted"> (this device)</span> : null}
                  </td>
                  <td>{d.lastUser}</td>
                  <td>{ago(d.lastSeenAt, readAt)}</td>
                  <td>{d.pendingCount === null ? 'not reported' : `${d.pendingCount} record${d.pendingCount === 1 ? '' : 's'}`}</td>
                  <td>
                    <span className={`badge ${d.revokedAt ? 'bad' : 'ok'}`}>{d.revokedAt ? `Revoked ${ago(d.revokedAt, readAt)}` : 'Allowed'}</span>
                  </td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className={d.revokedAt ? 'small' : 'small danger'}
                      disabled={busy}
                      aria-label={`${d.revokedAt ? 'Restore' : 'Revoke'} device ${shortId(d.deviceId)}`}
                      onClick={() => act(() => setDeviceRevoked(token, d.deviceId, !d.revokedAt))}
                    >
                      {d.revokedAt ? 'Restore' : 'Revoke'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
