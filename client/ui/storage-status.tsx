/**
 * The sync panel's storage lines: can the app start with no network, may the browser evict the
 * records, how much room they use; with a warning when unsent records sit in evictable storage or
 * space runs low (offline/storage.ts).
 */
import { useEffect, useState } from 'react';
import { useAppUpdate, type OfflineStart } from './service-worker';
import { formatBytes, readStorageFacts, requestPersistence, storageWarnings, type StorageFacts } from '../offline/storage';
import { useSyncStatus } from '../stores/sync-status';
import './offline.css';

const OFFLINE_START: Record<OfflineStart, string> = {
  development: 'not in development mode (`npm run dev`)',
  insecure: 'unavailable: the app is not served over https',
  unsupported: 'unavailable: this browser has no service workers',
  preparing: 'preparing…',
  ready: 'ready',
  failed: 'unavailable: the service worker failed to install',
};

/** Read again this often while the app is open (usage grows as records are made). */
const REFRESH_MS = 30_000;

export function StorageStatus() {
  const offlineStart = useAppUpdate((s) => s.offlineStart);
  const unsent = useSyncStatus((s) => s.pendingCount + s.rejected.length);
  const [facts, setFacts] = useState<StorageFacts | null>(null);

  useEffect(() => {
    let live = true;
    const read = () => void readStorageFacts().then((f) => live && setFacts(f));
    void requestPersistence().then(read);
    read();
    const timer = setInterval(read, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [unsent]);

  const persisted = facts?.persisted;
  return (
    <div className="storage" aria-label="Storage on this device" role="group">
      <dl className="sync-facts">
        <dt>Offline start</dt>
        <dd data-testid="offline-start">{OFFLINE_START[offlineStart]}</dd>
        <dt>Persistent storage</dt>
        <dd data-testid="storage-persisted">
          {facts === null
            ? 'checking…'
            : persisted === null
              ? 'unknown (the browser does not say)'
              : persisted
                ? 'granted: the browser keeps the records'
                : 'not granted: the browser may clear the records if space runs low'}
        </dd>
        <dt>Storage used</dt>
        <dd data-testid="storage-usage">
          {facts?.usage == null
            ? 'unknown'
            : `${formatBytes(facts.usage)}${facts.quota ? ` of ${formatBytes(facts.quota)} available to this app` : ''}`}
        </dd>
      </dl>
      {facts
        ? storageWarnings(facts, unsent).map((w) => (
            <p key={w.slice(0, 24)} className="warning" role="alert">
              {w}
            </p>
          ))
        : null}
    </div>
  );
}
