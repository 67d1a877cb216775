/**
 * What a start or a sign-in owes the site, not left to the timer's first tick (up to the sync
 * interval later, 5 minutes by default): records waiting on this device are sent at once (made
 * offline, then the browser closed; or pending at a sign-out), and a new device gets its site's
 * records, with the progress bar. "New" is a database that holds no record while the server holds
 * some of its site, read from GET /api/sync/status (the site's count, kept by the push: no scan).
 * Whether the run happens is the scheduler's decision (runOwed): auto sync off means no run.
 */
import { syncStatusSchema } from '../../schemas/api';
import type { DispenseDatabase } from '../data/db';
import { countAfter } from '../data/rxdb';
import { storedCheckpoint } from './checkpoint';

/** True when a start or a sign-in with this token owes a run: records wait to be sent, or the device is new to a site with records. */
export async function runOwedAtStart(db: DispenseDatabase, baseUrl: string, token: string | null): Promise<boolean> {
  if (!token || db.closed) return false;
  const pending = await countAfter(db.dispenses, storedCheckpoint(db.name)).catch(() => 0);
  if (pending > 0) return true;
  return isNewDeviceOfBusySite(db, baseUrl, token);
}

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
