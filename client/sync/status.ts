/**
 * The sync panel's words and state, and how tabs share them. The leader tab derives the status
 * from its runs and publishes it in an RxDB local document; every other tab mirrors that
 * document, and asks the leader for a run by writing another one ("Sync now" in any tab).
 * Pure functions first (unit-tested), then the two local documents.
 */
import { filter, firstValueFrom, map, race, timer, type Observable } from 'rxjs';
import type { DispenseDatabase } from '../db';
import type { SyncState, SyncStatusFields } from '../stores/sync-status';
import type { RunReport } from './replication';
import { uuidV4 } from '../uuid';

/** What the leader publishes: the status of its runs, not the counts (every tab reads those itself). */
export interface PublishedStatus {
  state: SyncState;
  lastSyncAt: string | null;
  lastResult: string | null;
  lastError: string | null;
  nextTryAt: string | null;
  needsSignIn: boolean;
  /** The last "Sync now" of another tab that the leader has run. */
  handledRequestId: string | null;
}

export interface StateInputs {
  running: boolean;
  online: boolean;
  enabled: boolean;
  needsSignIn: boolean;
  /** What the last run failed on, if it failed. */
  failed: 'network' | 'server' | null;
}

export function deriveState(s: StateInputs): SyncState {
  if (s.running) return 'syncing';
  if (!s.online || s.failed === 'network') return 'offline';
  if (s.needsSignIn || s.failed === 'server') return 'error';
  return s.enabled ? 'ready' : 'paused';
}

const records = (n: number) => `${n} record${n === 1 ? '' : 's'}`;

/** "Synced 12 records", with what was rejected or superseded; never "synced" when nothing moved. */
export function describeRun(r: RunReport, failed: boolean): string {
  const parts: string[] = [];
  if (failed) parts.push(r.acked > 0 ? `Synced ${records(r.acked)}, then stopped` : 'Nothing sent');
  else parts.push(r.acked > 0 ? `Synced ${records(r.acked)}` : 'Nothing new to send');
  if (r.rejected.length > 0) parts.push(`${records(r.rejected.length)} rejected by the server`);
  if (r.superseded > 0) parts.push(`${records(r.superseded)} replaced by a newer version from the server (this device's version is kept)`);
  return parts.join('; ');
}

/** A tab that does not lead shows the leader's status, but knows itself whether it is offline. */
export function mirrorStatus(p: PublishedStatus, online: boolean): Partial<SyncStatusFields> {
  const { handledRequestId: _ignored, ...fields } = p;
  return { ...fields, state: !online && p.state !== 'syncing' ? 'offline' : p.state, isLeader: false };
}

export const STATUS_DOC = 'sync-status';
const REQUEST_DOC = 'sync-request';

export interface RunRequest {
  id: string;
  at: string;
}

export async function publishStatus(db: DispenseDatabase, status: PublishedStatus): Promise<void> {
  if (db.closed) return;
  await db.upsertLocal<PublishedStatus>(STATUS_DOC, status);
}

export function publishedStatus$(db: DispenseDatabase): Observable<PublishedStatus | null> {
  return db.getLocal$<PublishedStatus>(STATUS_DOC).pipe(map((doc) => (doc ? (doc.toJSON().data as PublishedStatus) : null)));
}

export function runRequests$(db: DispenseDatabase): Observable<RunRequest | null> {
  return db.getLocal$<RunRequest>(REQUEST_DOC).pipe(map((doc) => (doc ? (doc.toJSON().data as RunRequest) : null)));
}

/**
 * "Sync now" in a tab that does not lead: asks the leader and waits until it has run the
 * request (or `timeoutMs`, e.g. while a new leader is still being elected).
 */
export async function requestRun(db: DispenseDatabase, timeoutMs = 120_000): Promise<void> {
  const request: RunRequest = { id: uuidV4(), at: new Date().toISOString() };
  const handled = firstValueFrom(
    race(publishedStatus$(db).pipe(filter((p) => p?.handledRequestId === request.id)), timer(timeoutMs)),
    { defaultValue: null },
  );
  await db.upsertLocal<RunRequest>(REQUEST_DOC, request);
  await handled;
}
