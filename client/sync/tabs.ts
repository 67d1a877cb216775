/**
 * How the tabs of one browser share a site's sync (only the leader tab replicates): the leader
 * publishes its status in an RxDB local document of the site's database, every other tab mirrors
 * it, and "Sync now" in another tab writes a request the leader runs.
 */
import { filter, firstValueFrom, map, race, timer, type Observable } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import { localDocument$ } from '../data/rxdb';
import { uuidV4 } from '../data/uuid';
import type { PublishedStatus } from './status';

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

/** The status the leader published last, as read now (null: none yet). */
export async function lastPublished(db: DispenseDatabase): Promise<PublishedStatus | null> {
  const doc = await db.getLocal<PublishedStatus>(STATUS_DOC);
  return doc ? (doc.toJSON().data as PublishedStatus) : null;
}

export function publishedStatus$(db: DispenseDatabase): Observable<PublishedStatus | null> {
  return localDocument$(db, STATUS_DOC).pipe(map((doc) => (doc ? (doc.toJSON().data as PublishedStatus) : null)));
}

export function runRequests$(db: DispenseDatabase): Observable<RunRequest | null> {
  return localDocument$(db, REQUEST_DOC).pipe(map((doc) => (doc ? (doc.toJSON().data as RunRequest) : null)));
}

/**
 * "Sync now" in a tab that does not lead: asks the leader and waits until it has run the
 * request (or `timeoutMs`, e.g. while a new leader is still being elected).
 */
export async function requestRun(db: DispenseDatabase, timeoutMs = 120_000): Promise<void> {
  const request: RunRequest = { id: uuidV4(), at: new Date().toISOString() };
  const handled = firstValueFrom(race(publishedStatus$(db).pipe(filter((p) => p?.handledRequestId === request.id)), timer(timeoutMs)), {
    defaultValue: null,
  });
  await db.upsertLocal<RunRequest>(REQUEST_DOC, request);
  await handled;
}
