/** The sign-in screen: username and password, the server's answer in words, nothing else. */
import { useState, type FormEvent } from 'react';
import { loginRequestSchema } from '../../schemas/api';
import { useSession } from '../stores/session';

interface Props {
  /** Why the user is here again (expired session, records waiting), if there is a reason. */
  notice?: string | null;
  lastUsername?: string;
}

export function SignIn({ notice, lastUsername = '' }: Props) {
  const signIn = useSession((s) => s.signIn);
  const [username, setUsername] = useState(lastUsername);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = loginRequestSchema.safeParse({ username, password });
    if (!parsed.success) {
      setError(parsed.error.issues[0].message);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(parsed.data.username, parsed.data.password);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  return (
    <main className="sign-in">
      <form className="card" aria-labelledby="sign-in-title" noValidate onSubmit={onSubmit}>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">℞</span>
          <span>SEMS Dispense</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        {notice ? <p className="notice" role="status">{notice}</p> : null}
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" autoFocus={!lastUsername}
          value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" autoFocus={!!lastUsername}
          value={password} onChange={(e) => setPassword(e.target.value)} />
        {error ? <p className="form-error" role="alert">{error}</p> : null}
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
