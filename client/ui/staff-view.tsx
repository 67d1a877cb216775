/**
 * The site admin's Staff tab: the site's users (change role, disable and enable, reset a
 * password; adding one is staff-add.tsx), the live sessions and lost devices (staff-sessions.tsx),
 * and the admin log (staff-log.tsx). Everything reads and writes the server, so the tab needs the network; a refusal
 * is shown in the server's words (the last admin, a weak password), and a session the server
 * ended signs this tab out with the reason.
 */
import { useCallback, useState, type FormEvent } from 'react';
import type { User } from '../../schemas/api';
import type { StaffMember } from '../../schemas/staff';
import { changeStaff, fetchStaff, resetStaffPassword } from '../data/staff-api';
import { ago } from './format';
import { Modal } from './modal';
import { AddStaffCard } from './staff-add';
import { staffFailure } from './staff-failure';
import { StaffLog } from './staff-log';
import { StaffSessions } from './staff-sessions';
import './admin.css';
import './staff.css';
import { FormError, Outcome } from './outcome';
import { useAction, useLoaded } from './use-action';

interface Props {
  token: string | null;
  user: User;
}

export function StaffView({ token, user }: Props) {
  // Any change reloads every card: a disable ends sessions, every action adds to the log.
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  return (
    <main className="admin-view staff">
      <StaffCard token={token} me={user} version={version} onChanged={changed} />
      <AddStaffCard token={token} onAdded={changed} />
      <StaffSessions token={token} siteId={user.siteId} version={version} onChanged={changed} />
      <StaffLog token={token} version={version} />
    </main>
  );
}

const statusOf = (m: StaffMember) =>
  m.disabled
    ? { text: 'Disabled', tone: 'bad' }
    : m.mustChangePassword
      ? { text: 'Must choose a password', tone: 'pending' }
      : { text: 'Active', tone: 'ok' };

function StaffCard({ token, me, version, onChanged }: { token: string | null; me: User; version: number; onChanged: () => void }) {
  const { data: staff, readAt, error: loadError } = useLoaded(() => fetchStaff(token), [token, version], staffFailure);
  const { busy, error, message, setMessage, run } = useAction<string>(staffFailure);
  const [resetting, setResetting] = useState<StaffMember | null>(null);

  async function act(m: StaffMember, what: string, call: () => Promise<unknown>) {
    if (await run(call, m.username)) {
      setMessage(what);
      onChanged();
    }
  }

  return (
    <section className="card staff-list" aria-labelledby="staff-title">
      <div className="card-head">
        <h2 id="staff-title">Staff of site {me.siteId}</h2>
        <p className="muted">A role change, a disable or a password reset signs the person out everywhere at once.</p>
      </div>
      <Outcome error={error ?? loadError} message={message} />
      {staff ? (
        <div className="table-scroll">
          <table aria-label="Staff">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {staff.map((m) => {
                const self = m.username === me.username;
                const status = statusOf(m);
                const otherRole = m.role === 'admin' ? 'pharmacist' : 'admin';
                return (
                  <tr key={m.username} data-username={m.username}>
                    <td>
                      {m.displayName}
                      {self ? <span className="muted"> (you)</span> : null}
                      <span className="code">{m.username}</span>
                    </td>
                    <td>{m.role === 'admin' ? 'Site admin' : 'Pharmacist'}</td>
                    <td>
                      <span className={`badge ${status.tone}`}>{status.text}</span>
                    </td>
                    <td>{m.lastSignInAt ? ago(m.lastSignInAt, readAt) : 'never'}</td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="small"
                        disabled={busy !== null || (self && m.role === 'admin')}
                        title={self ? 'You cannot change your own role' : undefined}
                        aria-label={`${otherRole === 'admin' ? 'Make admin' : 'Make pharmacist'} ${m.username}`}
                        onClick={() =>
                          act(m, `${m.displayName} is now ${otherRole === 'admin' ? 'a site admin' : 'a pharmacist'}.`, () =>
                            changeStaff(token, m.username, { role: otherRole }),
                          )
                        }
                      >
                        {otherRole === 'admin' ? 'Make admin' : 'Make pharmacist'}
                      </button>
                      <button
                        type="button"
                        className={m.disabled ? 'small' : 'small danger'}
                        disabled={busy !== null || self}
                        title={self ? 'You cannot disable yourself' : undefined}
                        aria-label={`${m.disabled ? 'Enable' : 'Disable'} ${m.username}`}
                        onClick={() =>
                          act(m, m.disabled ? `${m.displayName} can sign in again.` : `${m.displayName} is disabled and signed out everywhere.`, () =>
                            changeStaff(token, m.username, { disabled: !m.disabled }),
                          )
                        }
                      >
                        {m.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <button
                        type="button"
                        className="small"
                        disabled={busy !== null}
                        aria-label={`Reset password ${m.username}`}
                        onClick={() => setResetting(m)}
                      >
                        Reset password
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : error ? null : (
        <p className="empty">Loading the staff…</p>
      )}
      {resetting ? (
        <ResetDialog
          member={resetting}
          onClose={() => setResetting(null)}
          onReset={async (password) => {
            await resetStaffPassword(token, resetting.username, password);
            setMessage(`${resetting.displayName} has a new password to change at the next sign-in, and is signed out everywhere.`);
            setResetting(null);
            onChanged();
          }}
        />
      ) : null}
    </section>
  );
}

function ResetDialog({ member, onClose, onReset }: { member: StaffMember; onClose: () => void; onReset: (password: string) => Promise<void> }) {
  const [password, setPassword] = useState('');
  const { pending, error, run } = useAction(staffFailure);
  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    await run(() => onReset(password));
  }
  return (
    <Modal title={`Reset the password of ${member.displayName}`} titleId="reset-title" onClose={onClose}>
      <form onSubmit={onSubmit} noValidate>
        <p className="muted">They are signed out everywhere, and choose their own password when they next sign in with this one.</p>
        <label htmlFor="reset-password">Temporary password</label>
        <input id="reset-password" type="text" autoComplete="off" spellCheck={false} value={password} onChange={(e) => setPassword(e.target.value)} />
        <FormError error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={pending}>
            {pending ? 'Setting…' : 'Set password'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
