/**
 * The sync panel's one-line summary: the state, then what is not sent yet (pending, and refused by
 * the server: the same counts as the panel). Never "synced" while anything is pending or refused,
 * nor while nothing can be sent for want of a sign-in.
 */
import type { SyncStatusFields } from '../stores/sync-status';

export const STATE_LABEL: Record<SyncStatusFields['state'], string> = {
  ready: 'Ready',
  syncing: 'Syncing',
  offline: 'Offline',
  'sign-in': 'Sign in to send',
  error: 'Error',
  paused: 'Paused',
};

/** The collapsed line: the state, then what is still waiting (pending beats everything else). */
export function summary(
  s: Pick<SyncStatusFields, 'state' | 'pendingCount' | 'rejected' | 'needsSignIn' | 'lastSyncAt'> & Partial<Pick<SyncStatusFields, 'pendingKnown'>>,
  countsKnown: boolean,
): string {
  const parts = [STATE_LABEL[s.state]];
  if (!countsKnown) {
    // The pending count may come first: shown as soon as known, never "synced" before the rest.
    return s.pendingKnown && s.pendingCount > 0 ? `${parts[0]} · ${s.pendingCount} pending` : `${parts[0]} · counting…`;
  }
  if (s.needsSignIn && s.state !== 'sign-in') parts.push('sign in to send');
  if (s.pendingCount > 0) parts.push(`${s.pendingCount} pending`);
  if (s.rejected.length > 0) parts.push(`${s.rejected.length} rejected`);
  if (s.pendingCount === 0 && s.rejected.length === 0 && s.state !== 'syncing' && !s.needsSignIn) {
    parts.push(s.lastSyncAt ? 'all synced' : 'nothing to send');
  }
  return parts.join(' · ');
}
