/**
 * How many records this device has made since it was set up (its site database and device id):
 * counted in localStorage at each new record and reported after each sync, so a site admin can
 * see whether the server holds every record the device made (sync/device-report.ts). Removing the
 * site's data from the device (site.ts) removes the count with the device id: set up again, it
 * starts from 0 under a new id.
 *
 * Kept per database (one per site in a browser, site.ts), so two databases in one page (the
 * fault suite's devices in one Node process) never add to each other's count. Builds before
 * counted per site id (`sems_made:<site>`): that count is taken over once.
 */

/** The count's localStorage key for the database `dbName` on this browser. */
export const madeKey = (dbName: string) => `sems_made:db:${dbName}`;
/** The key of builds that counted per site. */
const legacyMadeKey = (siteId: string) => `sems_made:${siteId}`;

function read(key: string): number | null {
  const v = localStorage.getItem(key);
  if (v === null) return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** The records made on this device in the database `dbName` of the site `siteId`. */
export function madeCount(dbName: string, siteId: string): number {
  try {
    const n = read(madeKey(dbName));
    if (n !== null) return n;
    const legacy = read(legacyMadeKey(siteId));
    if (legacy === null) return 0;
    localStorage.setItem(madeKey(dbName), String(legacy));
    localStorage.removeItem(legacyMadeKey(siteId));
    return legacy;
  } catch {
    return 0; // a browser that refuses site data
  }
}

/** Counts `n` records made on this device, after they were stored. */
export function countMade(dbName: string, siteId: string, n = 1): void {
  try {
    localStorage.setItem(madeKey(dbName), String(madeCount(dbName, siteId) + n));
  } catch {
    // a browser that refuses site data keeps no records either
  }
}

/** The keys a removal of the site's data from this browser removes. */
export const madeKeys = (dbName: string, siteId: string) => [madeKey(dbName), legacyMadeKey(siteId)];
