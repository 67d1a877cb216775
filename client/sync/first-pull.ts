/**
 * A new device gets its site's records when it signs in, not at the timer's first tick (up to the
 * sync interval later, 5 minutes by default): a pharmacist who signs in on a fresh browser sees the
 * site's dispenses, with the progress bar, at once. "New" is a database that holds no record while
 * the server holds some of its site, read from GET /api/sync/status (the site's count, kept by the
 * push: no scan). A device of a site with no records yet, and one whose auto sync is off, waits as
 * any other (paused means no run).
 */
import { syncStatusSchema } from '../../schemas/api';
import type { DispenseDatabase } from '../db';

export async function isNewDeviceOfBusySite(db: DispenseDatabase, baseUrl: string, token: string): Promise<boolean> {
  try {
    if (db.closed || (await db.dispenses.count().exec()) > 0) return false;
    const res = await fetch(`${baseUrl}/api/sync/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    const status = syncStatusSchema.safeParse(res.ok ? await res.json() : null);
    return status.success && status.data.siteRecords > 0;
  } catch {
    return false; // offline or the server is down: the timer's run, or "Sync now", will do
  }
}
