/**
 * How many records this device has made since it was set up (its site database and device id):
 * counted in localStorage at each new record and reported after each sync, so a site admin can
 * see whether the server holds every record the device made (sync/device-report.ts).
 */
import { deviceIdOf } from './site';

const key = (siteId: string) => `sems_made:${deviceIdOf(siteId)}`;

export function madeCount(siteId: string): number {
  try {
    const n = Number(localStorage.getItem(key(siteId)) ?? 0);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0; // a browser that refuses site data
  }
}

/** Counts `n` records made on this device, after they were stored. */
export function countMade(siteId: string, n = 1): void {
  try {
    localStorage.setItem(key(siteId), String(madeCount(siteId) + n));
  } catch {
    // a browser that refuses site data keeps no records either
  }
}
