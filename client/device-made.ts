/**
 * How many records this device has made since it was set up (its site database and device id):
 * counted in localStorage at each new record and reported after each sync, so a site admin can
 * see whether the server holds every record the device made (sync/device-report.ts). Removing the
 * site's data from the device (site.ts) removes the count with the device id: set up again, it
 * starts from 0 under a new id.
 */

/** The count's localStorage key for a site's database on this browser. */
export const madeKey = (siteId: string) => `sems_made:${siteId}`;

export function madeCount(siteId: string): number {
  try {
    const n = Number(localStorage.getItem(madeKey(siteId)) ?? 0);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0; // a browser that refuses site data
  }
}

/** Counts `n` records made on this device, after they were stored. */
export function countMade(siteId: string, n = 1): void {
  try {
    localStorage.setItem(madeKey(siteId), String(madeCount(siteId) + n));
  } catch {
    // a browser that refuses site data keeps no records either
  }
}
