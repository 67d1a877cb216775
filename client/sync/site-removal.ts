/**
 * Removing a site's data from this browser: its database and everything kept beside it (the
 * device id, the made-here counters, the sync checkpoint, the sync and history settings), only
 * when nothing in it is unsent.
 */
import { removeRxDatabase } from 'rxdb';
import { getRxStorageDexie } from 'rxdb/plugins/storage-dexie';
import { deleteIndexedDbs } from '../data/rxdb';
import { madeKeys } from '../data/device-made';
import type { AdoptOptions } from '../data/legacy-database';
import { siteSettingsKey } from '../data/patient-history';
import { deviceKey, siteDatabaseName, storage } from '../data/site';
import { settingsKeyOf } from '../stores/sync-settings';
import { forgetCheckpoint } from './checkpoint';
import { countBeforeOpen } from './pending';

/**
 * Removes the site's records and everything this browser keeps for it (a shared or borrowed
 * machine). The caller has closed the database and checked that nothing is unsent.
 */
export async function removeSiteDatabase(siteId: string, opts: Pick<AdoptOptions, 'storage' | 'indexedDB'> = {}): Promise<void> {
  const name = siteDatabaseName(siteId);
  await removeRxDatabase(name, opts.storage ?? getRxStorageDexie());
  await deleteIndexedDbs(name, opts.indexedDB);
  const store = storage();
  for (const key of [deviceKey(siteId), ...madeKeys(name, siteId), settingsKeyOf(siteId), siteSettingsKey(siteId)]) store?.removeItem(key);
  forgetCheckpoint(name);
}

/**
 * Removes the site's data from this device if nothing in it is unsent, counted again now that
 * the database is closed (another tab may have saved a record since the user asked). Returns how
 * many records are unsent when it removed nothing (null: the count could not be read).
 */
export async function removeSiteDataIfSent(siteId: string): Promise<{ removed: boolean; unsent: number | null }> {
  const unsent = await countBeforeOpen(siteDatabaseName(siteId));
  if (unsent !== 0) return { removed: false, unsent };
  await removeSiteDatabase(siteId);
  return { removed: true, unsent: 0 };
}
