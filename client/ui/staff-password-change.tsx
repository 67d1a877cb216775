/**
 * After a sign-in with a password a site admin set (a new person's first one, or a reset): the
 * person chooses their own before anything else, since the server refuses every other request
 * until then (password_change_required). The rules are the server's, and so are the refusals.
 */
import { useState, type FormEvent } from 'react';
import type { User } from '../../schemas/api';
import { useSession } from '../stores/session';
import './staff.css';
import { FormError } from './outcome';
import { useAction } from './use-action';

interface Props {
  user: User;
  onSignOut: () => void;
}

export function StaffPasswordChange({ user, onSignOut }: Props) {
  const changePassword = useSession((s) => s.changePassword);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const { pending: busy, error, setError, run } = useAction();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!current) return setError('Enter the password you were given.');
    if (next !== again) return setError('The two new passwords differ: type the same one twice.');
    await run(() => changePassword(current, next));
  }

  return (
    <main className="sign-in password-change">
      <form className="card" aria-labelledby="password-change-title" noValidate onSubmit={onSubmit}>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ℞
          </span>
          <span>SEMS Dispense</span>
        </div>
        <h1 id="password-change-title">Choose your own password</h1>
        <p className="notice" role="status">
          {user.displayName}, your password was set by the site&apos;s admin. Choose your own before you go on.
        </p>
        <label htmlFor="current-password">Password you were given</label>
        <input
          id="current-password"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
        <label htmlFor="new-password">New password</label>
        <input
          id="new-password"
          type="password"
          autoComplete="new-password"
          aria-describedby="new-password-rules"
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <p className="rules" id="new-password-rules">
          At least 8 characters; a few words with spaces are fine. Common passwords and your username are refused.
        </p>
        <label htmlFor="new-password-again">New password again</label>
        <input id="new-password-again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
        <FormError error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save my password'}
        </button>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </form>
    </main>
  );
}
