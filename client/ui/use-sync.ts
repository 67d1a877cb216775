/**
 * The app's hold on the local database and the replication. A tab has the database of the site
 * signed in open, and no other (site.ts); sync starts when a session of that site exists and
 * stops on sign-out. Starts, stops and closes run one after the other, so a quick sign-out and
 * sign-in never leaves two replications on one collection, nor a database closed under its sync.
 */
import { useLayoutEffect, useState } from 'react';
import type { DispenseDatabase } from '../data/db';
import { deviceIdOf, openSiteDatabase } from '../data/site';
import { SESSION_ENDED_CODES, useSession } from '../stores/session';
import { followSiteSettings } from '../stores/sync-settings';
import { startSync, warmUp, type SyncController } from '../sync';

let current: { siteId: string; opening: Promise<DispenseDatabase> } | null = null;
/** Sync starts and stops, and database closes, in the order they were asked for. */
let queue: Promise<unknown> = Promise.resolve();

function enqueue(step: () => Promise<unknown> | void): Promise<void> {
  const done = queue.then(step).then(
    () => {},
    (e) => console.error('Stopping sync or closing the local records failed', e),
  );
  queue = done;
  return done;
}

/**
 * Opens the local database of `siteId`, once per page; another site's, open in this tab, closes
 * first. main.tsx calls it before the first render, so the database opens while React renders
 * (about 100-200 ms sooner than from a component's effect). The sync settings follow the site.
 */
export function openLocalDatabase(siteId: string): Promise<DispenseDatabase> {
  followSiteSettings(siteId);
  if (current?.siteId === siteId) return current.opening;
  const closed = closeLocalDatabase();
  // Dev-mode (schema checks) under `npm run dev` only; the production build leaves it out.
  const opening = closed
    .then(() => openSiteDatabase(siteId, { devMode: import.meta.env.DEV }))
    .then((db) => {
      warmUp(db); // the pending count starts now, not when the panel first renders
      return db;
    });
  current = { siteId, opening };
  return opening;
}

/** Closes the open site database once its sync has stopped (sign-out, or another site signs in). */
export function closeLocalDatabase(): Promise<void> {
  const was = current;
  current = null;
  if (!was) return queue.then(() => {});
  return enqueue(async () => {
    const db = await was.opening.catch(() => null);
    await db?.close();
  });
}

// Layout effects, not effects: they run as soon as React commits, not after the browser has
// painted, so the queries behind the list and the pending count start a frame or more earlier.
export function useDatabase(siteId: string): { db: DispenseDatabase | null; error: Error | null } {
  const [db, setDb] = useState<DispenseDatabase | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useLayoutEffect(() => {
    let live = true;
    openLocalDatabase(siteId).then(
      (d) => live && setDb(d),
      (e: Error) => live && setError(e),
    );
    // Ask the browser not to evict the records under storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
    return () => {
      live = false;
    };
  }, [siteId]);
  return { db, error };
}

/**
 * Runs the sync of the site's database while a session of that site exists. The token is read at
 * each request, and only while the signed-in user belongs to the database's site: a record is
 * never pushed with another site's token, even in the moment before this tab follows a sign-in
 * made in another tab.
 */
export function useSync(db: DispenseDatabase | null, siteId: string, token: string | null): SyncController | null {
  const [controller, setController] = useState<SyncController | null>(null);
  useLayoutEffect(() => {
    // Without a token (an offline session, client/offline/) it still counts what is pending; a run
    // sends nothing and asks for a sign-in. A new token restarts it, and records waiting are sent
    // at once if auto sync is on (sync/first-pull.ts).
    if (!db) return;
    let cancelled = false;
    let started: SyncController | null = null;
    void enqueue(() => {
      if (cancelled || db.closed) return;
      started = startSync(db, {
        baseUrl: window.location.origin,
        siteId,
        getToken: () => {
          const s = useSession.getState();
          return s.user?.siteId === siteId ? s.token : null;
        },
        deviceId: deviceIdOf(siteId),
        onUnauthorized: (failure, refused) => {
          // Revoked or disabled: signed out at once, with the reason; an expired token: keep working, sign in again.
          if (failure?.code && refused && SESSION_ENDED_CODES.has(failure.code))
            useSession.getState().endedByServer(failure.code, failure.message, refused);
          else console.warn('The server refused the session; sync waits for a new sign-in.');
        },
      });
      setController(started);
    });
    return () => {
      cancelled = true;
      setController(null);
      void enqueue(() => started?.stop());
    };
  }, [db, siteId, token]);
  return controller;
}
