/**
 * The banner of an offline session (signed in against this device's verifier, no token): records
 * are kept and nothing is sent; when the network is back, it asks for the password to get a real
 * token (never from a stored password: none is stored). Sync then starts by itself (use-sync.ts).
 */
import { useState, type FormEvent } from 'react';
import { useSession } from '../stores/session';
import { useSyncStatus } from '../stores/sync-status';
import { useOnline } from './use-online';
import './offline.css';
import { FormError } from './outcome';

export function OfflineSession() {
  const offline = useSession((s) => s.offline);
  const renew = useSession((s) => s.renew);
  const pending = useSyncStatus((s) => s.pendingCount);
  const online = useOnline();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!offline) return null;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!password) return setError('Password is required');
    setBusy(true);
    setError(null);
    try {
      await renew(password);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  const waiting = pending > 0 ? ` ${pending} record${pending === 1 ? '' : 's'} wait${pending === 1 ? 's' : ''} on this device.` : '';
  return (
    <section className="banner offline-session" aria-label="Offline sign-in" data-testid="offline-session">
      {online ? (
        <form onSubmit={onSubmit} noValidate>
          <p>
            <strong>The network is back.</strong> Sign in online to send what was recorded offline.{waiting}
          </p>
          <div className="renew">
            <label htmlFor="renew-password">Password for online sign-in</label>
            <input
              id="renew-password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <button type="submit" className="primary small" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in online'}
            </button>
          </div>
          <FormError error={error} />
        </form>
      ) : (
        <p>
          <strong>Signed in on this device only, with no network.</strong> Records are saved here; nothing is sent until you sign in online, which you
          will be asked to do when the network is back.{waiting}
        </p>
      )}
    </section>
  );
}
