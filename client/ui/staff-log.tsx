/** The Staff tab's admin log: every action on the site's staff, sessions and devices, newest first, in words. */
import { useEffect, useState } from 'react';
import type { AdminLogEntry } from '../../schemas/staff';
import { fetchAdminLog } from '../data/staff-api';
import { formatWhen } from './format';
import { staffFailure } from './staff-failure';
import { FormError } from './outcome';

const roleWord = (r: unknown) => (r === 'admin' ? 'site admin' : 'pharmacist');

/** What one entry did, as a sentence a pharmacy manager reads. */
export function describeAction(e: AdminLogEntry): string {
  const d = e.details as {
    role?: unknown;
    temporary?: unknown;
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
    sessionsEnded?: unknown;
  };
  const device = (id: string | null) => `device ${id?.slice(0, 8) ?? ''}`;
  switch (e.action) {
    case 'user.create':
      return `added ${e.target} as ${roleWord(d.role)}`;
    case 'user.update': {
      const after = d.after ?? {};
      const parts: string[] = [];
      if ('role' in after) parts.push(`made ${e.target} ${roleWord(after.role)}`);
      if ('disabled' in after) parts.push(`${after.disabled ? 'disabled' : 'enabled'} ${e.target}`);
      if ('displayName' in after) parts.push(`renamed ${e.target} to "${String(after.displayName)}"`);
      return parts.join(', ') || `changed ${e.target}`;
    }
    case 'user.password_reset':
      return `reset the password of ${e.target}${d.temporary ? ' (to change at the next sign-in)' : ''}`;
    case 'user.password_change':
      return 'changed their own password';
    case 'session.end':
      return 'ended a session';
    case 'device.revoke':
      return `revoked ${device(e.target)}${typeof d.sessionsEnded === 'number' ? ` (${d.sessionsEnded} session${d.sessionsEnded === 1 ? '' : 's'} ended)` : ''}`;
    case 'device.restore':
      return `restored ${device(e.target)}`;
  }
}

export function StaffLog({ token, version }: { token: string | null; version: number }) {
  const [entries, setEntries] = useState<AdminLogEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [readAt, setReadAt] = useState(0);

  useEffect(() => {
    let live = true;
    fetchAdminLog(token, null).then(
      (page) => live && (setEntries(page.entries), setNext(page.nextCursor), setReadAt(Date.now()), setError(null), setLoading(false)),
      (err) => live && (setError(staffFailure(err)), setLoading(false)),
    );
    return () => {
      live = false;
    };
  }, [token, version]);

  async function older() {
    if (!next) return;
    setLoading(true);
    try {
      const page = await fetchAdminLog(token, next);
      setEntries((e) => [...e, ...page.entries]);
      setNext(page.nextCursor);
    } catch (err) {
      setError(staffFailure(err));
    } finally {
      setLoading(false);
    }
  }

  return (
    <section className="card staff-log" aria-labelledby="log-title">
      <div className="card-head">
        <h2 id="log-title">Admin log</h2>
        <p className="muted">Every change to the site&apos;s staff, sessions and devices, newest first. It cannot be edited.</p>
      </div>
      <FormError error={error} />
      {!loading && entries.length === 0 && !error ? <p className="empty">Nothing yet.</p> : null}
      <ol aria-label="Admin log entries">
        {entries.map((e) => (
          <li key={e.id}>
            <span className="when">{formatWhen(e.createdAt, readAt)}</span> <strong>{e.actor}</strong> {describeAction(e)}
          </li>
        ))}
      </ol>
      {next ? (
        <button type="button" className="small" onClick={older} disabled={loading}>
          {loading ? 'Loading…' : 'Show older'}
        </button>
      ) : null}
    </section>
  );
}
