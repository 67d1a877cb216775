/**
 * The sign-in screen: username and password, the server's answer in words. With no network, a
 * user this device knows signs in against its verifier (client/offline/); "Remember me on this
 * device" keeps that possible after sign-out. The form starts empty: on a shared counter the next
 * person sees nothing of who signed in before (docs/decisions/sign-in-starts-empty.md).
 */
import { useState, type FormEvent } from 'react';
import { loginRequestSchema } from '../../schemas/api';
import { useOfflineAccounts } from '../offline/accounts';
import { canVerifyOffline } from '../offline/verifier';
import { useSession } from '../stores/session';
import { useOnline } from './use-online';
import { FormError } from './outcome';
import { useAction } from './use-action';

interface Props {
  /** Why the user is here again (expired session, records waiting), if there is a reason. */
  notice?: string | null;
}

export function SignIn({ notice }: Props) {
  const signIn = useSession((s) => s.signIn);
  const online = useOnline();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  // Untouched, "Remember me" shows the choice this device keeps for the username typed.
  const remembered = useOfflineAccounts((s) => s.accounts[username.trim()]?.remember ?? false);
  const [rememberChosen, setRemember] = useState<boolean | null>(null);
  const remember = rememberChosen ?? remembered;
  const { pending: busy, error, setError, run } = useAction();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = loginRequestSchema.safeParse({ username, password });
    if (!parsed.success) {
      setError(parsed.error.issues[0].message);
      return;
    }
    await run(() => signIn(parsed.data.username, parsed.data.password, remember));
  }

  return (
    <main className="sign-in">
      <form className="card" aria-labelledby="sign-in-title" noValidate onSubmit={onSubmit}>
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ℞
          </span>
          <span>SEMS Dispense</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        {notice ? (
          <p className="notice" role="status">
            {notice}
          </p>
        ) : null}
        {!online ? (
          <p className="notice" role="status" data-testid="offline-sign-in-note">
            {canVerifyOffline()
              ? 'No network: you can sign in on this device if you signed in here online in the last days.'
              : 'No network, and signing in without it needs the app served over https: connect to sign in.'}
          </p>
        ) : null}
        <label htmlFor="username">Username</label>
        <input id="username" name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {canVerifyOffline() ? (
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            Remember me on this device (sign in here without the network, even after signing out)
          </label>
        ) : null}
        <FormError error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
