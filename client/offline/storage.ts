/**
 * Whether the browser may evict this app's records, and how full its storage is. Browsers clear
 * a site's data under storage pressure unless it is persistent (`navigator.storage.persist()`), and
 * unsent records would go with it: the sync panel shows these facts and warns (storage-status.tsx).
 */

export interface StorageFacts {
  /** Granted persistent storage; null where the browser does not say. */
  persisted: boolean | null;
  usage: number | null;
  quota: number | null;
}

/** Free space under which the panel warns, whatever the quota (about 50,000 records). */
export const LOW_FREE_BYTES = 100 * 1024 * 1024;
/** Or when this share of the quota is used. */
export const HIGH_USE_SHARE = 0.9;

let asked: Promise<boolean> | null = null;

/** Asks once per page for persistent storage (Chromium decides alone; Firefox asks the user). */
export function requestPersistence(): Promise<boolean> {
  asked ??= (navigator.storage?.persist?.() ?? Promise.resolve(false)).catch(() => false);
  return asked;
}

export async function readStorageFacts(): Promise<StorageFacts> {
  const storage = navigator.storage;
  const [persisted, estimate] = await Promise.all([
    storage?.persisted ? storage.persisted().catch(() => null) : Promise.resolve(null),
    storage?.estimate ? storage.estimate().catch(() => null) : Promise.resolve(null),
  ]);
  return { persisted, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null };
}

const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** What the panel must warn about, in words: unsent records that may be evicted, little room left. */
export function storageWarnings(facts: StorageFacts, unsent: number): string[] {
  const warnings: string[] = [];
  if (facts.persisted === false && unsent > 0) {
    warnings.push(
      `${unsent} record${unsent === 1 ? ' is' : 's are'} not sent yet and this browser may clear its storage when the disk runs low. ` +
        'Sync as soon as you can; installing the app, or allowing this site to keep its data in the browser settings, protects them.',
    );
  }
  if (facts.usage !== null && facts.quota !== null && facts.quota > 0) {
    const free = Math.max(0, facts.quota - facts.usage);
    if (free < LOW_FREE_BYTES || facts.usage >= facts.quota * HIGH_USE_SHARE) {
      warnings.push(`Storage is nearly full: ${formatBytes(free)} left for this app. New records may fail to save; sync, and free disk space.`);
    }
  }
  return warnings;
}
