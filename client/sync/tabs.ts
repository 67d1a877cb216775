/**
 * The one channel between the tabs of a browser that share a site's database: a BroadcastChannel
 * per database (docs/decisions/sync-run-protocol.md). Only the leader tab replicates; on this
 * channel it posts the push checkpoint (checkpoint.ts) and the status of its runs, and the other
 * tabs post "Sync now". A message also reaches the tab that posts it, so every tab, the leader's
 * included, shows what the channel carries. What must outlive the page is kept apart from the
 * channel: the checkpoint in localStorage (checkpoint.ts), the last status in an RxDB local document.
 */
import { filter, firstValueFrom, map, Observable, race, Subject, timer } from 'rxjs';
import type { DispenseDatabase } from '../data/db';
import type { ChangesCheckpoint } from '../data/rxdb';
import { uuidV4 } from '../data/uuid';
import type { SyncState } from '../stores/sync-status';

/** What the leader posts: the status of its runs, not the counts (every tab reads those itself). */
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

export type TabMessage =
  /** The leader's push checkpoint: what the server has answered. */
  | { kind: 'checkpoint'; checkpoint: ChangesCheckpoint | null }
  | { kind: 'status'; status: PublishedStatus }
  /** "Sync now" in a tab that does not lead. */
  | { kind: 'run-request'; id: string };

/** The RxDB local document that keeps the leader's last status for the next leader, over a reload too. */
export const STATUS_DOC = 'sync-status';

interface Tab {
  messages: Subject<TabMessage>;
  /** The last checkpoint the channel carried here, if any: a late subscriber starts from it. */
  checkpoint?: { value: ChangesCheckpoint | null };
  /** This tab's "Sync now" requests not yet run: posted again when a leader posts its status. */
  outstanding: Set<string>;
  post(message: TabMessage): void;
}

const tabs = new Map<string, Tab>();

/** This page's end of the channel of the database `dbName`, opened once and kept while the page lives. */
function tabOf(dbName: string): Tab {
  const open = tabs.get(dbName);
  if (open) return open;
  const messages = new Subject<TabMessage>();
  // A browser without BroadcastChannel (none in use) still works in one tab.
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`sems-sync:${dbName}`) : null;
  (channel as { unref?: () => void } | null)?.unref?.(); // Node (tests): an open channel must not keep the process alive
  const tab: Tab = {
    messages,
    outstanding: new Set(),
    post(message) {
      messages.next(message); // this tab, at once
      channel?.postMessage(message); // every other tab
    },
  };
  channel?.addEventListener('message', (e: MessageEvent<TabMessage>) => messages.next(e.data));
  messages.subscribe((m) => {
    if (m.kind === 'checkpoint') tab.checkpoint = { value: m.checkpoint };
    // A leader is there (perhaps a new one, elected after the request was posted; this tab, too): ask it again.
    if (m.kind !== 'status') return;
    for (const id of tab.outstanding) if (id !== m.status.handledRequestId) tab.post({ kind: 'run-request', id });
  });
  tabs.set(dbName, tab);
  return tab;
}

export function postToTabs(dbName: string, message: TabMessage): void {
  tabOf(dbName).post(message);
}

export function tabMessages$<K extends TabMessage['kind']>(dbName: string, kind: K): Observable<Extract<TabMessage, { kind: K }>> {
  return tabOf(dbName).messages.pipe(filter((m): m is Extract<TabMessage, { kind: K }> => m.kind === kind));
}

/** The last checkpoint the channel brought to this page; undefined when none came yet. */
export function lastCheckpointHeard(dbName: string): { value: ChangesCheckpoint | null } | undefined {
  return tabOf(dbName).checkpoint;
}

/**
 * The leader's status: posted to every tab at once, and kept for the next leader (over a reload
 * too) one write after the other; `settled` resolves once the last is kept.
 */
export function statusPublisher(db: DispenseDatabase): { publish(status: PublishedStatus): void; settled(): Promise<void> } {
  let keeping: Promise<unknown> = Promise.resolve();
  return {
    publish(status) {
      postToTabs(db.name, { kind: 'status', status });
      keeping = keeping.then(() => (db.closed ? null : db.upsertLocal<PublishedStatus>(STATUS_DOC, status))).catch(() => {});
    },
    settled: () => keeping.then(() => {}),
  };
}

/** The status the last leader kept, as read now (null: none yet). */
export async function lastPublished(db: DispenseDatabase): Promise<PublishedStatus | null> {
  const doc = await db.getLocal<PublishedStatus>(STATUS_DOC);
  return doc ? (doc.toJSON().data as PublishedStatus) : null;
}

/**
 * "Sync now" in a tab that does not lead: asks the leader and waits until it has run the
 * request (or `timeoutMs`, e.g. while a new leader is still being elected: the request is posted
 * again when it posts its first status).
 */
export async function requestRun(db: DispenseDatabase, timeoutMs = 120_000): Promise<void> {
  const tab = tabOf(db.name);
  const id = uuidV4();
  const handled = tabMessages$(db.name, 'status').pipe(filter((m) => m.status.handledRequestId === id));
  const done = firstValueFrom(race(handled.pipe(map(() => null)), timer(timeoutMs)), { defaultValue: null });
  tab.outstanding.add(id);
  tab.post({ kind: 'run-request', id });
  await done.finally(() => tab.outstanding.delete(id));
}

/** The requests to run that reach the leader, each once (a request may be posted again). */
export function runRequests$(dbName: string): Observable<string> {
  return new Observable<string>((subscriber) => {
    const seen = new Set<string>();
    return tabMessages$(dbName, 'run-request').subscribe(({ id }) => {
      if (seen.has(id)) return;
      seen.add(id);
      subscriber.next(id);
    });
  });
}
