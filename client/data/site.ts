/**
 * A device's data belongs to one site (docs/decisions/site-scoped-databases.md): each site of the
 * server has its own local database on this browser, so a user of another site sees nothing of
 * it and can never push its records. The server is the page's origin: IndexedDB and localStorage
 * are already per origin. This module names what is kept per site.
 */
import { openDispenseDatabase, type DispenseDatabase } from './db';
import { adoptLegacyRecords, type AdoptOptions } from './legacy-database';
import { uuidV4 } from './uuid';

/**
 * A site id as an RxDB database name (`^[a-z][_a-z0-9-]*$`, no '$'), one to one: lower-case
 * letters, digits and '-' stay; an upper-case letter becomes '_' and the letter; anything else is
 * '__' and two hex digits per UTF-8 byte. 'site-demo' stays 'site-demo'; 'SITE-1' is '_s_i_t_e-1'.
 */
export function encodeSiteId(siteId: string): string {
  let out = '';
  for (const ch of siteId) {
    if (/[a-z0-9-]/.test(ch)) out += ch;
    else if (/[A-Z]/.test(ch)) out += `_${ch.toLowerCase()}`;
    else for (const byte of new TextEncoder().encode(ch)) out += `__${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The local database of a site on this browser. */
export function siteDatabaseName(siteId: string): string {
  return `sems-site-${encodeSiteId(siteId)}`;
}

export function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // a browser that refuses site data
  }
}

export const deviceKey = (siteId: string) => `sems_device:${siteDatabaseName(siteId)}`;

/**
 * This browser's id at a site, made once per browser profile and site database and sent with
 * each push for the audit trail. Another site never sees it.
 */
export function deviceIdOf(siteId: string): string {
  const store = storage();
  const known = store?.getItem(deviceKey(siteId));
  if (known) return known;
  const id = uuidV4();
  store?.setItem(deviceKey(siteId), id);
  return id;
}

/**
 * Opens the site's database, with the site's records of the single database of earlier versions
 * moved in first (legacy-database.ts), so the list and the pending count include them. A move that
 * fails leaves them where they were, to be moved at the next open.
 */
export async function openSiteDatabase(siteId: string, opts: AdoptOptions = {}): Promise<DispenseDatabase> {
  const db = await openDispenseDatabase(siteDatabaseName(siteId), opts);
  try {
    const moved = await adoptLegacyRecords(db, siteId, opts);
    if (moved > 0) console.info(`Moved ${moved} record(s) of site ${siteId} into its own database on this device.`);
  } catch (err) {
    console.error(
      'Records of this site in the database of an earlier version could not be moved yet; they stay there, and the move is tried again at the next start.',
      err,
    );
  }
  return db;
}
