/** The Staff tab's form to add a person: a temporary password they change at their first sign-in. */
import { useState, type FormEvent } from 'react';
import { addStaff } from '../data/staff-api';
import { staffFailure } from './staff-failure';
import { Outcome } from './outcome';
import { useAction } from './use-action';

export function AddStaffCard({ token, onAdded }: { token: string | null; onAdded: () => void }) {
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<'pharmacist' | 'admin'>('pharmacist');
  const [password, setPassword] = useState('');
  const { pending: busy, error, setError, message, setMessage, run } = useAction(staffFailure);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setMessage(null);
    if (!username.trim()) return setError('Enter a username.');
    await run(async () => {
      const added = await addStaff(token, {
        username: username.trim(),
        role,
        password,
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      });
      setMessage(`Added ${added.displayName}. Give them the temporary password: they choose their own at the first sign-in.`);
      setUsername('');
      setDisplayName('');
      setPassword('');
      onAdded();
    });
  }

  return (
    <form className="card staff-add" aria-labelledby="staff-add-title" onSubmit={onSubmit} noValidate>
      <div className="card-head">
        <h2 id="staff-add-title">Add a person</h2>
        <p className="muted">Passwords: at least 8 characters, any letters, spaces or symbols; common passwords and the username are refused.</p>
      </div>
      <div className="fields">
        <label>
          Username
          <input name="username" autoComplete="off" spellCheck={false} value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Full name (optional)
          <input name="displayName" autoComplete="off" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </label>
        <label>
          Role
          <select name="role" value={role} onChange={(e) => setRole(e.target.value as 'pharmacist' | 'admin')}>
            <option value="pharmacist">Pharmacist</option>
            <option value="admin">Site admin</option>
          </select>
        </label>
        <label>
          Temporary password
          <input name="password" type="text" autoComplete="off" spellCheck={false} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add person'}
        </button>
      </div>
      <Outcome error={error} message={message} />
    </form>
  );
}
